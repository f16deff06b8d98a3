import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ServiceAvailability } from '../support/services.js';
import { freePort } from '../server/ports.js';

const PG_BIN = process.env.ELIZABETH_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const asPostgres = (args: string[]) =>
  spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 60_000 });

/**
 * Whether a private PostgreSQL can be started here: the server binaries, root (to run them as
 * the `postgres` user) and that user. Never touches the shared server on 5432.
 */
export function privatePostgresAvailability(): ServiceAvailability {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) {
    return { available: false, reason: `no initdb/pg_ctl in ${PG_BIN} (set ELIZABETH_TEST_PG_BIN)` };
  }
  if (process.getuid?.() !== 0)
    return { available: false, reason: 'needs root to run PostgreSQL as postgres' };
  const probe = spawnSync('id', ['postgres'], { encoding: 'utf8' });
  if (probe.status !== 0) return { available: false, reason: 'no postgres system user' };
  return { available: true };
}

/** A throw-away PostgreSQL cluster on a free port (trust auth), startable and stoppable at will. */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'elz-pg-'));
    chmodSync(dir, 0o777);
    const data = join(dir, 'data');
    const init = asPostgres([
      join(PG_BIN, 'initdb'),
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const pg = new PrivatePostgres(dir, await freePort());
    pg.start();
    return pg;
  }

  start(): void {
    const result = asPostgres([
      join(PG_BIN, 'pg_ctl'),
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    if (result.status !== 0) throw new Error(`pg_ctl start failed: ${result.stderr}${result.stdout}`);
  }

  /** `fast`: disconnects clients and shuts down cleanly; `immediate`: like a crash. */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    const result = asPostgres([
      join(PG_BIN, 'pg_ctl'),
      '-D',
      join(this.dir, 'data'),
      '-m',
      mode,
      '-w',
      'stop',
    ]);
    if (result.status !== 0) throw new Error(`pg_ctl stop failed: ${result.stderr}`);
  }

  destroy(): void {
    try {
      this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
