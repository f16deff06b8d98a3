import { expect, it } from 'vitest';

import { isUniqueViolation, type NewRoom } from '../../src/db/index.js';
import { groupCommitState, prepared, runUnit, step } from '../../src/db/prepared-query.js';
import { describeEachDatabase, suiteDatabase } from '../support/db.js';

const NOW = Date.UTC(2026, 11, 6, 10, 0, 0);
let seq = 0;
const unique = () => `prepared-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

const room = (name: string): NewRoom => ({
  name,
  slug: name,
  password_hash: null,
  permission: 15,
  max_size: 1000,
  max_times_entered: 10,
  expire_at: NOW + 86_400_000,
  share_disabled_at: null,
  created_at: NOW,
  updated_at: NOW,
});

const bySlug = prepared((db, p: { slug: string }) =>
  db.selectFrom('rooms').selectAll().where('slug', '=', p.slug),
);
const insertRoom = prepared((db, p: { name: string }) =>
  db
    .insertInto('rooms')
    .values({ ...room('x'), name: p.name, slug: p.name })
    .returning(['id', 'name', 'max_size']),
);
const grow = prepared((db, p: { id: number; delta: number }) =>
  db
    .updateTable('rooms')
    .set((eb) => ({ current_size: eb('current_size', '+', p.delta) }))
    .where('id', '=', p.id)
    .where((eb) => eb(eb('current_size', '+', p.delta), '<=', eb.ref('max_size'))),
);

describeEachDatabase('prepared queries and units', (engine) => {
  const database = suiteDatabase(engine);

  const exists = async (name: string) =>
    (await bySlug.execute(database.db, { slug: name })).rows.length === 1;

  it('answers like the query built each time, on the database and inside a transaction', async () => {
    const name = unique();
    const [inserted] = (await insertRoom.execute(database.db, { name })).rows;
    expect(inserted).toMatchObject({ name, max_size: 1000 });
    const built = await database.db.selectFrom('rooms').selectAll().where('slug', '=', name).execute();
    expect((await bySlug.execute(database.db, { slug: name })).rows).toEqual(built);
    await database.db.transaction().execute(async (trx) => {
      expect((await bySlug.execute(trx, { slug: name })).rows).toEqual(built);
      expect(Number((await grow.execute(trx, { id: inserted!.id, delta: 600 })).numAffectedRows)).toBe(1);
      expect(Number((await grow.execute(trx, { id: inserted!.id, delta: 600 })).numAffectedRows)).toBe(0);
    });
    const [after] = (await bySlug.execute(database.db, { slug: name })).rows;
    expect(after?.current_size).toBe(600);
    expect((await bySlug.execute(database.db, { slug: unique() })).rows).toEqual([]);
  });

  it('never runs inside a transaction someone else has open on the connection', async () => {
    // On SQLite a unit runs directly on the one connection: while a Kysely transaction is open
    // there it must wait for it, or the rollback below would take the unit's row with it.
    const theirs = unique();
    const mine = unique();
    let unit: Promise<unknown> | undefined;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('rooms').values(room(theirs)).execute();
        unit = runUnit(database.db, function* () {
          return yield* step(insertRoom, { name: mine });
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await unit;
    expect(await exists(theirs)).toBe(false);
    expect(await exists(mine)).toBe(true);
  });

  it('runs a unit as one transaction when asked: all of it or nothing', async () => {
    const first = unique();
    const taken = unique();
    await insertRoom.execute(database.db, { name: taken });
    const failing = runUnit(
      database.db,
      function* () {
        yield* step(insertRoom, { name: first });
        return yield* step(insertRoom, { name: taken });
      },
      { transaction: true },
    );
    await expect(failing).rejects.toSatisfy(isUniqueViolation);
    expect(await exists(first)).toBe(false);

    // An error thrown by a query reaches the unit at its `yield`, which may handle it.
    const handled = await runUnit(
      database.db,
      function* () {
        yield* step(insertRoom, { name: first });
        try {
          yield* step(insertRoom, { name: taken });
          return 'inserted twice';
        } catch (error) {
          return isUniqueViolation(error) ? 'taken' : 'other';
        }
      },
      // PostgreSQL ends a transaction at its first error, so this one runs without.
      { transaction: engine === 'sqlite' },
    );
    expect(handled).toBe('taken');
    expect(await exists(first)).toBe(true);
  });

  it('refuses a parameter that is not bound or not given', async () => {
    const unbound = prepared((db, p: { slug: string; other: string }) =>
      db.selectFrom('rooms').select('id').where('slug', '=', p.slug),
    );
    await expect(unbound.execute(database.db, { slug: 'a', other: 'b' })).rejects.toThrow(/"other"/);
    const name = unique();
    await insertRoom.execute(database.db, { name });
    await expect(bySlug.execute(database.db, { slug: undefined as unknown as string })).rejects.toThrow(
      /"slug" is undefined/,
    );
  });

  it('runs the transaction units of one event-loop turn in one group commit, each all or nothing', async () => {
    const names = Array.from({ length: 20 }, unique);
    const taken = unique();
    await insertRoom.execute(database.db, { name: taken });
    const before = groupCommitState();
    const results = await Promise.allSettled(
      names.map((name, i) =>
        runUnit(
          database.db,
          function* () {
            const [row] = (yield* step(insertRoom, { name })).rows;
            // Every fifth unit fails after its first write: that write must not stay.
            if (i % 5 === 4) yield* step(insertRoom, { name: taken });
            if (i === 7) throw new Error('refused after writing');
            return row!.name;
          },
          { transaction: true },
        ),
      ),
    );
    const kept = names.filter((_, i) => i % 5 !== 4 && i !== 7);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual(kept);
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason] as const] : []));
    expect(failed.map(([i]) => i)).toEqual([4, 7, 9, 14, 19]);
    expect(failed.filter(([i]) => i !== 7).every(([, reason]) => isUniqueViolation(reason))).toBe(true);
    for (const name of names) expect(await exists(name)).toBe(kept.includes(name));
    const after = groupCommitState();
    if (engine === 'sqlite') {
      // One transaction for the 15 units that succeeded (the others rolled back to their savepoints).
      expect(after.transactions - before.transactions).toBe(1);
      expect(after.units - before.units).toBe(15);
    } else {
      expect(after).toEqual(before);
    }
  });

  it('group-committed units wait for a transaction someone else has open, and survive its rollback', async () => {
    const theirs = unique();
    const mine = [unique(), unique()];
    let units: Promise<unknown>[] = [];
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('rooms').values(room(theirs)).execute();
        units = mine.map((name) =>
          runUnit(
            database.db,
            function* () {
              return yield* step(insertRoom, { name });
            },
            { transaction: true },
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await Promise.all(units);
    expect(await exists(theirs)).toBe(false);
    for (const name of mine) expect(await exists(name)).toBe(true);
  });
});
