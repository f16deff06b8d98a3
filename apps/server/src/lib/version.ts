import { readFileSync } from 'node:fs';

/** The server package version, read once from its package.json (works from src and dist). */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
