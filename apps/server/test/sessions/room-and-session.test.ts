import { expect, it } from 'vitest';

import type { NewRoom } from '../../src/db/index.js';
import { roomsRepository } from '../../src/modules/rooms/rooms.repository.js';
import { sessionsRepository } from '../../src/modules/sessions/sessions.repository.js';
import { describeEachDatabase, statementCounter, suiteDatabase } from '../support/db.js';

const NOW = Date.UTC(2026, 11, 7, 1, 0, 0);
let seq = 0;
const unique = (what: string) => `${what}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

describeEachDatabase(
  'checking a token: the room and its session (sessionsRepository.findRoomAndSession)',
  (engine) => {
    const database = suiteDatabase(engine);

    async function newRoom(): Promise<{ id: number; slug: string }> {
      const name = unique('auth');
      const values: NewRoom = {
        name,
        slug: `${name}_Private12345`,
        password_hash: null,
        permission: 15,
        max_size: 1_000_000,
        max_times_entered: 10,
        expire_at: NOW + 86_400_000,
        share_disabled_at: NOW,
        created_at: NOW,
        updated_at: NOW,
      };
      return database.db
        .insertInto('rooms')
        .values(values)
        .returning(['id', 'slug'])
        .executeTakeFirstOrThrow();
    }

    /** A live session with only the columns a room entry sets. */
    const newSession = (roomId: number) =>
      sessionsRepository.insertSession(database.db, {
        jti: unique('jti'),
        room_id: roomId,
        permission: 15,
        created_at: NOW,
        expires_at: NOW + 3_600_000,
        revoked_at: null,
      });

    it('reads the same room and session as the plain look-ups, by address and by id', async () => {
      const room = await newRoom();
      // Every column set (none null), with values a JSON round trip could change if it were lossy.
      const full = await sessionsRepository.insertSession(database.db, {
        jti: unique('jti'),
        room_id: room.id,
        permission: 13,
        created_at: NOW,
        expires_at: 8_640_000_000_000, // far, with more digits than 32 bits hold
        revoked_at: NOW + 1,
        share_link_id: 2 ** 40 + 3,
        author_id: '0123456789abcdef',
        display_name: 'Zoë "the" 作者 \\ 😀',
      });
      expect(Object.entries(full).filter(([, v]) => v === null)).toEqual([]);
      const bare = await newSession(room.id);
      const plainRoom = await roomsRepository.findBySlug(database.db, room.slug);
      for (const session of [full, bare]) {
        const plainSession = await sessionsRepository.findSession(database.db, session.jti);
        for (const address of [{ slug: room.slug }, { id: room.id }]) {
          const found = await sessionsRepository.findRoomAndSession(database.db, address, session.jti);
          expect(found).toStrictEqual({ room: plainRoom, session: plainSession });
        }
      }
    });

    it('no session for an unknown jti; nothing for an unknown room', async () => {
      const room = await newRoom();
      const plainRoom = await roomsRepository.findBySlug(database.db, room.slug);
      const found = await sessionsRepository.findRoomAndSession(
        database.db,
        { slug: room.slug },
        'no-such-jti',
      );
      expect(found.room).toStrictEqual(plainRoom);
      expect(found.session).toBeUndefined();
      expect(
        await sessionsRepository.findRoomAndSession(database.db, { slug: 'no-such-room' }, 'x'),
      ).toStrictEqual({});
      expect(
        await sessionsRepository.findRoomAndSession(database.db, { id: 987_654_321 }, 'x'),
      ).toStrictEqual({});
    });

    it('PostgreSQL: one statement, so one round trip (SQLite: two, in process)', async () => {
      const room = await newRoom();
      const session = await newSession(room.id);
      const counter = statementCounter();
      const found = await sessionsRepository.findRoomAndSession(
        database.db.withPlugin(counter),
        { slug: room.slug },
        session.jti,
      );
      expect(found.session?.jti).toBe(session.jti);
      expect(counter.count).toBe(engine === 'postgres' ? 1 : 2);
    });
  },
);
