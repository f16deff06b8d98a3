import type { Kysely } from 'kysely';

import type { DB } from '../../db/index.js';
import type { RoomRow } from '../rooms/rooms.repository.js';

/** SQL of the admin API. */
export const adminRepository = {
  /** Rooms in id order after `afterId` (keyset paging), with their number of contents. */
  listRooms(
    db: Kysely<DB>,
    afterId: number,
    limit: number,
  ): Promise<Array<RoomRow & { content_count: number | string }>> {
    return db
      .selectFrom('rooms')
      .selectAll('rooms')
      .select((eb) =>
        eb
          .selectFrom('contents')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('contents.room_id', '=', 'rooms.id')
          .as('content_count'),
      )
      .where('rooms.id', '>', afterId)
      .orderBy('rooms.id')
      .limit(limit)
      .execute() as Promise<Array<RoomRow & { content_count: number | string }>>;
  },
};
