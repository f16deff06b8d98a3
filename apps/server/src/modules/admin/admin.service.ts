import type { AdminRoomsQuery, AdminRoomsResponse, AuthCleanupResponse } from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { DB } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { Lifecycle, LifecycleResult } from '../../jobs/lifecycle.js';
import type { EventBus } from '../../realtime/events.js';
import type { Presence } from '../../realtime/presence.js';
import type { BlobReaper } from '../../storage/blob-reaper.js';
import { toRoomView } from '../rooms/rooms.presenter.js';
import { roomsRepository } from '../rooms/rooms.repository.js';
import { adminRepository } from './admin.repository.js';

export interface AdminDeps {
  db: Kysely<DB>;
  clock: Clock;
  events: EventBus;
  blobs: BlobReaper;
  presence: Presence;
  lifecycle: Lifecycle;
}

const encodeCursor = (id: number) => Buffer.from(`r:${id}`).toString('base64url');

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const match = /^r:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) {
    throw validationError('Invalid cursor', [
      { path: 'querystring.cursor', message: 'not a cursor of this list' },
    ]);
  }
  return Number(match[1]);
}

/** Operator actions over every room (API.md §5 `/admin/*`). */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  async listRooms(query: AdminRoomsQuery): Promise<AdminRoomsResponse> {
    const rows = await adminRepository.listRooms(this.deps.db, decodeCursor(query.cursor), query.limit + 1);
    const page = rows.slice(0, query.limit);
    const sockets = await this.deps.presence
      .onlineMany(page.map((r) => r.id))
      .catch(() => new Map<number, number>());
    const last = page.at(-1);
    const hasMore = rows.length > query.limit;
    return {
      items: page.map(({ content_count, ...room }) => ({
        ...toRoomView(room),
        sockets: sockets.get(room.id) ?? 0,
        contents: Number(content_count),
      })),
      next_cursor: hasMore && last ? encodeCursor(last.id) : null,
      has_more: hasMore,
    };
  }

  /** Takedown: what `DELETE /rooms/{name}` does, without a room token. */
  async deleteRoom(slug: string): Promise<void> {
    const { db, clock } = this.deps;
    const room = await roomsRepository.findBySlug(db, slug);
    if (!room) throw new AppError('ROOM_NOT_FOUND', `Room ${slug} does not exist`);
    const deleted = await db
      .transaction()
      .execute((trx) => roomsRepository.deleteWithBlobs(trx, room.id, clock.now()));
    if (!deleted) throw new AppError('ROOM_NOT_FOUND', `Room ${slug} does not exist`);
    this.deps.events.publish({
      type: 'room_deleted',
      room_id: room.id,
      slug: room.slug,
      reason: 'room_deleted',
    });
    // The bytes go now rather than at the next pass; what fails stays queued for it.
    await this.deps.blobs.drain();
  }

  runLifecyclePass(): Promise<LifecycleResult> {
    return this.deps.lifecycle.runPass();
  }

  cleanupAuth(): Promise<AuthCleanupResponse> {
    return this.deps.lifecycle.cleanupAuth();
  }
}
