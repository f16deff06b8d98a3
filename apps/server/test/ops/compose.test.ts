/**
 * OPERATIONS.md, "Images and compose": both compose files validate with docker-compose (v1);
 * every variable of .env.docker is consumed by compose or the server, and every variable
 * compose reads is in .env.docker with the same default; the rendered backend environment and
 * the Docker YAML are a valid server configuration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { loadConfig } from '../../src/config/index.js';
import { ENV_ALIASES } from '../../src/config/env.js';
import { describeWithService } from '../support/services.js';
import { ROOT, hasCommand, run } from './run.js';

const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.postgres.yml'];
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** KEY → value of a dotenv file (quotes removed), in file order. */
function dotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** NAME → defaults of every `${NAME}` / `${NAME:-default}` in a compose file. */
function composeVariables(text: string): Map<string, Set<string | undefined>> {
  const out = new Map<string, Set<string | undefined>>();
  for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}/g)) {
    const defaults = out.get(m[1]!) ?? new Set();
    defaults.add(m[2]);
    out.set(m[1]!, defaults);
  }
  return out;
}

interface Service {
  environment?: Record<string, string | null>;
  [key: string]: unknown;
}

const ENV_DOCKER = dotenv(read('.env.docker'));
const COMPOSE_VARS = new Map<string, Set<string | undefined>>();
for (const file of COMPOSE_FILES) {
  for (const [name, defaults] of composeVariables(read(file))) {
    COMPOSE_VARS.set(name, new Set([...(COMPOSE_VARS.get(name) ?? []), ...defaults]));
  }
}
const SERVER_ENV = new Set([...ENV_ALIASES.map((a) => a.name), 'CONFIG_FILE']);

describe('.env.docker ↔ compose ↔ server', () => {
  it('every .env.docker variable is read by a compose file', () => {
    const unused = [...ENV_DOCKER.keys()].filter((k) => !COMPOSE_VARS.has(k));
    expect(unused).toEqual([]);
  });

  it('every variable a compose file reads is in .env.docker, with the same default', () => {
    for (const [name, defaults] of COMPOSE_VARS) {
      expect(ENV_DOCKER.has(name), `${name} is missing from .env.docker`).toBe(true);
      // JWT_SECRET: .env.docker holds the placeholder the server refuses; compose without .env
      // leaves it empty, and the server then generates one into the data directory.
      if (name === 'JWT_SECRET') {
        expect([...defaults]).toEqual(['']);
        continue;
      }
      for (const d of defaults) expect(d, `default of \${${name}}`).toBe(ENV_DOCKER.get(name));
    }
  });

  it('every environment entry of the backend is a name the server reads, fed from .env.docker', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
    const backend = compose.services.backend!.environment!;
    for (const [name, value] of Object.entries(backend)) {
      expect(SERVER_ENV.has(name), `${name} is not read by the server`).toBe(true);
      if (name !== 'CONFIG_FILE') expect(String(value)).toContain(`\${${name}:-`);
    }
    const overlay = parse(read('docker-compose.postgres.yml')) as { services: Record<string, Service> };
    expect(Object.keys(overlay.services.backend!.environment!)).toEqual(['DATABASE_URL']);
  });

  it('every environment entry of the frontend is read by apps/web/server.mjs', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
    const server = read('apps/web/server.mjs');
    for (const name of Object.keys(compose.services.frontend!.environment!)) {
      expect(server, name).toContain(`process.env.${name}`);
    }
  });

  it('the Docker YAML plus the environment compose passes is a valid server configuration', () => {
    const env: Record<string, string> = { JWT_SECRET: randomBytes(32).toString('hex') };
    for (const [name, value] of ENV_DOCKER)
      if (SERVER_ENV.has(name) && name !== 'JWT_SECRET') env[name] = value;
    const { config } = loadConfig({
      env,
      cli: { configFile: join(ROOT, 'docker/backend/config/backend.yaml') },
    });
    expect(config.server.addr).toBe('0.0.0.0');
    expect(config.server.data_dir).toBe('/app/data');
    expect(config.database.url).toBe('sqlite:///app/data/elizabeth.db');
    expect(config.database.journal_mode).toBe('delete');
    expect(config.storage.root).toBe('/app/storage/rooms');
    expect(config.room.defaults.max_size).toBe(50 * 1024 * 1024);
    expect(config.middleware.rate_limit).toMatchObject({ enabled: true, per_second: 50, burst_size: 200 });
  });

  it('docs/DEPLOYMENT.md documents every .env.docker variable', () => {
    const lines = read('docs/DEPLOYMENT.md').split('\n');
    const documented = (name: string) =>
      lines.some(
        (line) =>
          line.includes(`\`${name}\``) ||
          // grouped rows: `MIDDLEWARE_CORS_ALLOWED_ORIGINS` / `_METHODS` / `_HEADERS`
          [...name.matchAll(/_/g)].some(({ index }) => {
            const [prefix, suffix] = [name.slice(0, index), name.slice(index)];
            return index >= 5 && line.includes(`\`${suffix}\``) && line.includes(`\`${prefix}`);
          }),
      );
    expect([...ENV_DOCKER.keys()].filter((name) => !documented(name))).toEqual([]);
  });

  it('the server refuses the .env.docker placeholder secret', () => {
    expect(() => loadConfig({ env: { JWT_SECRET: ENV_DOCKER.get('JWT_SECRET')! } })).toThrow(/placeholder/);
  });
});

describeWithService(
  'docker-compose',
  hasCommand('docker-compose')
    ? { available: true }
    : { available: false, reason: 'docker-compose is not installed (apt-get install docker-compose)' },
  'docker-compose config',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'elz-compose-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // Without a .env in the project directory, whatever the developer has there.
    const compose = async (args: string[], envFile?: string) =>
      run('docker-compose', [
        '--project-directory',
        ROOT,
        ...(envFile ? ['--env-file', envFile] : ['--env-file', join(dir, 'empty.env')]),
        ...args,
      ]);
    writeFileSync(join(dir, 'empty.env'), '');

    it.each([
      [['-f', 'docker-compose.yml']],
      [['-f', 'docker-compose.yml', '-f', 'docker-compose.postgres.yml']],
    ])('validates %j', async (files) => {
      const result = await compose([...files, 'config', '-q']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    it('renders the hardening, health checks, network and the wait for a healthy backend', async () => {
      const result = await compose(['-f', 'docker-compose.yml', 'config']);
      expect(result.code, result.stderr).toBe(0);
      const rendered = parse(result.stdout) as {
        services: Record<string, Record<string, unknown>>;
        networks: Record<string, { name: string; driver: string }>;
      };
      for (const name of ['backend', 'frontend']) {
        const s = rendered.services[name]!;
        expect(s.read_only, name).toBe(true);
        expect(s.init, name).toBe(true);
        expect(s.cap_drop, name).toEqual(['ALL']);
        expect(s.security_opt, name).toEqual(['no-new-privileges:true']);
        expect(s.tmpfs, name).toEqual(['/tmp']);
        expect(Object.keys(s.networks as object), name).toEqual(['elizabeth-network']);
        expect((s.healthcheck as { test: string[] }).test.join(' '), name).toMatch(
          /fetch\('http:\/\/127\.0\.0\.1/,
        );
      }
      expect(rendered.services.backend!.user).toBe('1000:1000');
      expect(rendered.services.frontend!.depends_on).toEqual({ backend: { condition: 'service_healthy' } });
      expect(rendered.networks['elizabeth-network']).toMatchObject({
        name: 'elizabeth-network',
        driver: 'bridge',
      });
      // v1 renders the short syntax: source:target:mode
      expect(rendered.services.backend!.volumes).toEqual([
        `${join(ROOT, 'docker/backend/data')}:/app/data:rw`,
        `${join(ROOT, 'docker/backend/storage')}:/app/storage:rw`,
        `${join(ROOT, 'docker/backend/config/backend.yaml')}:/app/config/backend.yaml:ro`,
      ]);
      expect(rendered.services.backend!.ports).toEqual(['0.0.0.0:4092:4092/tcp']);
      expect(rendered.services.frontend!.ports).toEqual(['0.0.0.0:4001:4001/tcp']);
    });

    it('renders the same environment from .env.docker as from the built-in defaults (JWT_SECRET aside)', async () => {
      const plain = await compose([
        '-f',
        'docker-compose.yml',
        '-f',
        'docker-compose.postgres.yml',
        'config',
      ]);
      const templated = await compose(
        ['-f', 'docker-compose.yml', '-f', 'docker-compose.postgres.yml', 'config'],
        join(ROOT, '.env.docker'),
      );
      expect(plain.code, plain.stderr).toBe(0);
      expect(templated.code, templated.stderr).toBe(0);
      const a = parse(plain.stdout) as { services: Record<string, Service> };
      const b = parse(templated.stdout) as { services: Record<string, Service> };
      expect(b.services.backend!.environment!.JWT_SECRET).toBe(ENV_DOCKER.get('JWT_SECRET'));
      delete a.services.backend!.environment!.JWT_SECRET;
      delete b.services.backend!.environment!.JWT_SECRET;
      expect(b).toEqual(a);
      expect(a.services.backend!.environment!.DATABASE_URL).toBe(
        'postgres://elizabeth:please-change-me@postgres:5432/elizabeth',
      );
    });

    it('follows the override variables for the bind mounts and ports', async () => {
      const envFile = join(dir, 'custom.env');
      writeFileSync(
        envFile,
        'ELIZABETH_DATA_DIR=/srv/eliz/data\nELIZABETH_STORAGE_DIR=/srv/eliz/files\nELIZABETH_BACKEND_CONFIG=/etc/eliz.yaml\nBACKEND_PORT=8092\nFRONTEND_PORT=8001\nPUBLISH_ADDR=127.0.0.1\n',
      );
      const result = await compose(['-f', 'docker-compose.yml', 'config'], envFile);
      expect(result.code, result.stderr).toBe(0);
      const rendered = parse(result.stdout) as { services: Record<string, Record<string, unknown>> };
      const backend = rendered.services.backend!;
      expect(backend.volumes).toEqual([
        '/srv/eliz/data:/app/data:rw',
        '/srv/eliz/files:/app/storage:rw',
        '/etc/eliz.yaml:/app/config/backend.yaml:ro',
      ]);
      expect(backend.ports).toEqual(['127.0.0.1:8092:4092/tcp']);
      expect(rendered.services.frontend!.ports).toEqual(['127.0.0.1:8001:4001/tcp']);
    });
  },
);
