import { expect, it } from 'vitest';

import { CONTENT_TYPE, type NewRoom } from '../../src/db/index.js';
import { groupCommitState } from '../../src/db/prepared-query.js';
import { contentsRepository, type NewMessage } from '../../src/modules/contents/contents.repository.js';
import { describeEachDatabase, statementCounter, suiteDatabase } from '../support/db.js';

const NOW = Date.UTC(2026, 11, 6, 23, 0, 0);
let seq = 0;
const unique = () => `post-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

const message = (roomId: number, text: string): NewMessage => ({
  room_id: roomId,
  content_type: CONTENT_TYPE.text,
  text,
  url: null,
  file_name: null,
  storage_key: null,
  size: Buffer.byteLength(text),
  mime_type: 'text/plain',
  created_at: NOW,
  updated_at: NOW,
  author_id: 'a1b2c3d4e5f60718',
  author_name: null,
});

describeEachDatabase('posting a message (contentsRepository.insertMessageWithinQuota)', (engine) => {
  const database = suiteDatabase(engine);

  async function newRoom(maxSize: number): Promise<number> {
    const name = unique();
    const values: NewRoom = {
      name,
      slug: name,
      password_hash: null,
      permission: 15,
      max_size: maxSize,
      max_times_entered: 10,
      expire_at: NOW + 86_400_000,
      share_disabled_at: null,
      created_at: NOW,
      updated_at: NOW,
    };
    const row = await database.db
      .insertInto('rooms')
      .values(values)
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }
  const usage = async (id: number) =>
    Number(
      (
        await database.db
          .selectFrom('rooms')
          .select('current_size')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).current_size,
    );
  const stored = async (id: number) =>
    database.db
      .selectFrom('contents')
      .select(['text', 'sequence_number'])
      .where('room_id', '=', id)
      .execute();

  it('numbers posts one past the highest, or as asked, and counts their bytes', async () => {
    const id = await newRoom(1000);
    const first = await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'one'), {});
    const asked = await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'ten'), {
      sequenceNumber: 10,
    });
    const next = await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'next'), {});
    expect([first?.sequence_number, asked?.sequence_number, next?.sequence_number].map(Number)).toEqual([
      0, 10, 11,
    ]);
    expect(next).toMatchObject({ room_id: id, text: 'next', size: 4, author_id: 'a1b2c3d4e5f60718' });
    expect(await usage(id)).toBe(10);
  });

  it('100 concurrent posts to one room get 100 consecutive numbers', async () => {
    const id = await newRoom(100_000);
    const rows = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        contentsRepository.insertMessageWithinQuota(database.db, message(id, `post ${i}`), {}),
      ),
    );
    const numbers = rows.map((row) => Number(row?.sequence_number)).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a full room: undefined, nothing written, usage unchanged', async () => {
    const id = await newRoom(5);
    expect(
      await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'four'), {}),
    ).toBeDefined();
    expect(
      await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'more'), {}),
    ).toBeUndefined();
    expect(await usage(id)).toBe(4);
    expect((await stored(id)).map((r) => r.text)).toEqual(['four']);
  });

  it("the server's total cap: 507 INSUFFICIENT_STORAGE when only it is in the way, nothing written", async () => {
    const id = await newRoom(1000);
    const total = Number(
      (
        await database.db
          .selectFrom('rooms')
          .select((eb) => eb.fn.sum<number>('current_size').as('total'))
          .executeTakeFirstOrThrow()
      ).total ?? 0,
    );
    await expect(
      contentsRepository.insertMessageWithinQuota(database.db, message(id, 'over the cap'), {
        totalCap: total + 3,
      }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
    expect(await usage(id)).toBe(0);
    expect(await stored(id)).toEqual([]);
  });

  it('one round trip: on PostgreSQL one statement (the room row locked only while the server runs it), on SQLite one unit of a group commit', async () => {
    const id = await newRoom(1000);
    if (engine === 'postgres') {
      // Four statements before (BEGIN, the quota UPDATE, the INSERT, COMMIT), the lock held
      // across two client round trips: posts to one room queued behind each other (≈ 270/s).
      const counter = statementCounter();
      const row = await contentsRepository.insertMessageWithinQuota(
        database.db.withPlugin(counter),
        message(id, 'hello'),
        {},
      );
      expect(row?.text).toBe('hello');
      expect(counter.count).toBe(1);
    } else {
      const before = groupCommitState();
      const row = await contentsRepository.insertMessageWithinQuota(database.db, message(id, 'hello'), {});
      expect(row?.text).toBe('hello');
      expect(groupCommitState().units - before.units).toBe(1);
    }
  });
});
