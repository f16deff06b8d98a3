import { createServer } from 'node:net';

import { sql } from 'kysely';
import { types } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, isConnectionError, isUniqueViolation } from '../../src/db/index.js';
import { createTestDatabase, testDatabaseEngines, type TestDatabase } from '../support/db.js';
import { describeWithService } from '../support/services.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function pgConfig(url: string): AppConfig['database'] {
  return { url, max_connections: 4, min_connections: 0, journal_mode: 'wal', busy_timeout_ms: 5_000 };
}

describe('PostgreSQL without a server', () => {
  it('opens lazily and reports the refused connection as a connection problem', async () => {
    const database = await createDatabase(
      pgConfig(`postgres://postgres@127.0.0.1:${await closedPort()}/none`),
    );
    try {
      expect(database.dialect).toBe('postgres');
      const error = await database.ping().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeDefined();
      expect(isConnectionError(error)).toBe(true);
      expect(isUniqueViolation(error)).toBe(false);
    } finally {
      await database.close();
      await database.close();
    }
  });
});

const postgres = testDatabaseEngines().find((e) => e.engine === 'postgres')!;

describeWithService('PostgreSQL', postgres.availability, 'PostgreSQL connections', () => {
  let testDb: TestDatabase;
  let database: Database;
  const warnings: Array<{ obj: unknown; msg: string | undefined }> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    database = await createDatabase(testDb.config, {
      logger: { info: () => undefined, warn: (obj, msg) => void warnings.push({ obj, msg }) },
    });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.cleanup();
  });

  it('reads bigint as number for this pool only', async () => {
    const { rows } = await sql<{ big: number; total: number }>`
      SELECT 10737418240::bigint AS big, sum(x)::numeric AS total FROM (VALUES (5::bigint), (7::bigint)) AS v(x)
    `.execute(database.db);
    expect(rows).toEqual([{ big: 10737418240, total: 12 }]);
    expect(types.getTypeParser(20)('42')).toBe('42');
  });

  it('refuses bigint values a JavaScript number cannot hold exactly', async () => {
    await expect(sql`SELECT 9007199254740993::bigint AS v`.execute(database.db)).rejects.toThrow(
      /exceeds the safe integer range/,
    );
  });

  it('survives an idle connection being killed and serves the next query', async () => {
    await database.ping();
    const pidRow = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(database.db);
    const pid = pidRow.rows[0]!.pid;

    const killer = await createDatabase(testDb.config);
    try {
      await sql`SELECT pg_terminate_backend(${pid})`.execute(killer.db);
    } finally {
      await killer.close();
    }
    await expect.poll(() => warnings.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(warnings[0]!.msg).toBe('idle PostgreSQL connection failed');
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('reports a connection terminated mid-query as a connection problem', async () => {
    const error = await sql`SELECT pg_terminate_backend(pg_backend_pid())`.execute(database.db).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeDefined();
    expect(isConnectionError(error)).toBe(true);
    await expect(database.ping()).resolves.toBeUndefined();
  });
});
