import type { Kysely } from 'kysely';

import type { DB } from '../../db/index.js';

/** SQL behind the gauges gathered at scrape time. */
export const metricsRepository = {
  async usage(db: Kysely<DB>, now: number): Promise<{ rooms: number; bytes: number; uploads: number }> {
    const rooms = await db
      .selectFrom('rooms')
      .select((eb) => [
        eb.fn.countAll<number>().as('rooms'),
        eb.fn.sum<number | null>('current_size').as('bytes'),
      ])
      .executeTakeFirstOrThrow();
    const uploads = await db
      .selectFrom('upload_reservations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return { rooms: Number(rooms.rooms), bytes: Number(rooms.bytes ?? 0), uploads: Number(uploads.n) };
  },
};
