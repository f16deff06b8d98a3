/**
 * The build bundles the terminal client (apps/server/scripts/bundle-client.mjs) and the built
 * `bin/elizabeth.js` runs that bundle for client commands: push, ls, pull, send and open go
 * through it against a real server, and a module-resolution hook records that no module of
 * `dist/client/` (the unbundled client) but the list of command names was loaded.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import { describeWithService } from '../support/services.js';
import { clientEnv, createRoom, runClient, serverEnv, sha256, tempDir } from './harness.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const bundle = fileURLToPath(new URL('../../dist/client-bundle/cli.mjs', import.meta.url));
const built =
  existsSync(bundle) && existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)));

describeWithService(
  'the client bundle (npm run build)',
  { available: built, reason: `${bundle} is missing: run npm run build` },
  'the built elizabeth binary runs client commands from the bundle',
  () => {
    const dir = tempDir('elz-client-bundle-');
    const loaded = join(dir, 'loaded.txt');
    let server: SpawnedServer;
    let env: Record<string, string>;

    beforeAll(async () => {
      server = await spawnServer(serverEnv(join(dir, 'server')));
      await createRoom(server.url, 'bundled', {});
      // Off-thread resolution hooks (module.register) see every module the client imports.
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes('/apps/server/')) appendFileSync(${JSON.stringify(loaded)}, result.url + '\\n');
  return result;
}`,
      );
      const register = join(dir, 'register.mjs');
      writeFileSync(
        register,
        `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
      );
      env = clientEnv(join(dir, 'cache'), { NODE_OPTIONS: `--import=${pathToFileURL(register).href}` });
    });
    afterAll(async () => {
      await server?.kill();
    });

    it('push (stdin), ls, pull to stdout, send and open work and load only the bundle', async () => {
      const room = `${server.url}/bundled`;
      const data = Buffer.alloc(3 * 1024 * 1024 + 17, 'bundle');
      const pushed = await runClient(['push', room, '-', '--name', 'b.bin', '--json', '--no-progress'], env, {
        entry: bin,
        input: data,
      });
      expect(pushed.code, pushed.stderr).toBe(0);
      expect(JSON.parse(pushed.stdout.toString())).toMatchObject([{ name: 'b.bin', size: data.length }]);

      const listed = await runClient(['ls', room, '--json'], env, { entry: bin });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout.toString()).toContain('b.bin');

      const pulled = await runClient(['pull', room, 'b.bin', '-o', '-'], env, { entry: bin });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(sha256(pulled.stdout)).toBe(sha256(data));

      const sent = await runClient(['send', room, 'from the bundle'], env, { entry: bin });
      expect(sent.code, sent.stderr).toBe(0);
      const opened = await runClient(['open', room], env, { entry: bin });
      expect(opened.code, opened.stderr).toBe(0);
      expect(opened.stdout.toString()).toContain(room);

      const urls = readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
      expect(urls.some((u) => u.endsWith('/dist/client-bundle/cli.mjs'))).toBe(true);
      // dist/index.js reads the command names from their own small module, then the bundle
      const unbundled = urls.filter((u) => u.includes('/dist/client/') && !u.endsWith('/command-names.js'));
      expect(unbundled).toEqual([]);
    });
  },
);
