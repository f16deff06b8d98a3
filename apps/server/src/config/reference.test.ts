import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ENV_ALIASES } from './env.js';
import { KEY_DESCRIPTIONS, renderConfigReference } from './reference.js';
import { CONFIG_LEAVES } from './schema.js';

const doc = readFileSync(new URL('../../../../docs/CONFIGURATION.md', import.meta.url), 'utf8');

describe('configuration reference (docs/CONFIGURATION.md)', () => {
  it('describes every key and nothing else', () => {
    const keys = CONFIG_LEAVES.map((l) => l.key).sort();
    expect(Object.keys(KEY_DESCRIPTIONS).sort()).toEqual(keys);
  });

  it('is up to date with the schema, defaults and env names (run `npm run docs:config`)', () => {
    const begin = doc.indexOf('-->', doc.indexOf('config-reference:begin')) + 3;
    const end = doc.indexOf('<!-- config-reference:end');
    expect(doc.slice(begin, end).trim()).toBe(renderConfigReference());
  });

  it('names every short environment variable', () => {
    for (const { name } of ENV_ALIASES) expect(doc).toContain(`\`${name}\``);
  });

  it('never shows a secret default', () => {
    expect(renderConfigReference()).not.toMatch(/please-change|default-secret/);
  });
});
