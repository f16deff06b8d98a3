import { afterAll, beforeAll, expect, it } from 'vitest';

import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import { Lifecycle } from '../../src/jobs/lifecycle.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryEventBus } from '../../src/realtime/memory-event-bus.js';
import { BlobReaper } from '../../src/storage/blob-reaper.js';
import { LocalStorage } from '../../src/storage/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createTestDatabase, type TestDatabase, testDatabaseEngines } from '../support/db.js';
import { describeWithService } from '../support/services.js';

const postgres = testDatabaseEngines().find((e) => e.engine === 'postgres')!.availability;

describeWithService('PostgreSQL', postgres, 'lifecycle pass exclusivity across instances [postgres]', () => {
  let testDb: TestDatabase;
  const databases: Database[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i += 1) databases.push(await createDatabase(testDb.config));
    await migrateToLatest(databases[0]!, { backup: false });
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.close()));
    await testDb.cleanup();
  });

  /** A lifecycle pass per "instance" whose reservation step waits for `gate`. */
  function instance(database: Database, gate: Promise<void>, entered: () => void) {
    const { config } = loadConfig({ env: { JWT_SECRET: 'x'.repeat(40) } });
    return new Lifecycle({
      database,
      config,
      clock: new ManualClock(),
      events: new MemoryEventBus(),
      blobs: new BlobReaper({ db: database.db, storage: new LocalStorage('/nonexistent-elz-storage') }),
      releaseExpiredReservations: async () => {
        entered();
        await gate;
        return 0;
      },
    });
  }

  it('runs one pass at a time: a racing pass on another instance is skipped, the next one runs', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inside = 0;
    const a = instance(databases[0]!, gate, () => (inside += 1));
    const b = instance(databases[1]!, gate, () => (inside += 1));

    const first = a.runPass();
    await expect.poll(() => inside).toBe(1);
    const second = await b.runPass();
    expect(second.skipped).toBe(true);
    expect(inside).toBe(1);
    open();
    expect((await first).skipped).toBe(false);

    // The lock went with the pass: the other instance gets the next one.
    const third = await b.runPass();
    expect(third.skipped).toBe(false);
    expect(inside).toBe(2);
  });

  it('ten passes started together on two instances never overlap', async () => {
    let active = 0;
    let maxActive = 0;
    let ran = 0;
    const slow = (database: Database) => {
      const { config } = loadConfig({ env: { JWT_SECRET: 'x'.repeat(40) } });
      return new Lifecycle({
        database,
        config,
        clock: new ManualClock(),
        events: new MemoryEventBus(),
        blobs: new BlobReaper({ db: database.db, storage: new LocalStorage('/nonexistent-elz-storage') }),
        releaseExpiredReservations: async () => {
          active += 1;
          ran += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 50));
          active -= 1;
          return 0;
        },
      });
    };
    // Separate Lifecycle objects per call, so the in-process guard cannot hide an overlap.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => slow(databases[i % 2]!).runPass()),
    );
    expect(maxActive).toBe(1);
    expect(results.filter((r) => !r.skipped)).toHaveLength(ran);
    expect(ran).toBeGreaterThanOrEqual(1);
  });
});
