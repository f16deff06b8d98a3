import type { AppConfig } from '../config/types.js';
import type { Database } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { roomsRepository } from '../modules/rooms/rooms.repository.js';
import { shareLinksRepository } from '../modules/share-links/share-links.repository.js';
import type { EventBus } from '../realtime/events.js';
import type { BlobReaper } from '../storage/blob-reaper.js';
import { lifecycleRepository } from './lifecycle.repository.js';

/** How long a purged room's address still answers "expired" (API.md §1). */
export const ROOM_TOMBSTONE_MS = 7 * 24 * 3600 * 1000;

export interface AuthCleanupCounts {
  expired_sessions: number;
  expired_refresh_tokens: number;
  expired_blacklist: number;
}

export interface LifecycleCounts extends AuthCleanupCounts {
  expired_rooms: number;
  released_reservations: number;
  released_names: number;
  /** Share-link download slots whose lease lapsed, given back. */
  released_download_leases: number;
  blobs_deleted: number;
  /** Stored keys no row named, removed by the orphan sweep (0 in passes that do not sweep). */
  orphans_deleted: number;
}

export interface LifecycleResult extends LifecycleCounts {
  /** True when another instance was running a pass, so this one did nothing. */
  skipped: boolean;
  duration_ms: number;
}

/**
 * Releases expired upload reservations (quota and partial bytes), at most `limit`; returns how
 * many. Provided by the uploads module (`releaseExpiredReservations(deps, now, limit)`), bound
 * to its dependencies by the composition root.
 */
export type ReservationReleaser = (now: number, limit: number) => Promise<number>;

/**
 * Removes stored bytes that no row names and that were last written before `olderThan` (ms);
 * returns how many keys. `sweepOrphans(deps, olderThan)` of `jobs/orphan-sweep.ts`, bound to
 * the storage by the composition root.
 */
export type OrphanSweeper = (olderThan: number) => Promise<number>;

export interface LifecycleObserver {
  passFinished(result: LifecycleResult): void;
  passFailed(): void;
}

export interface LifecycleDeps {
  database: Database;
  config: Pick<AppConfig, 'gc' | 'room' | 'upload'>;
  clock: Clock;
  events: EventBus;
  blobs: BlobReaper;
  /** The upload-reservation step; absent = skipped (reported as 0). */
  releaseExpiredReservations?: ReservationReleaser;
  /** The orphan sweep; absent = skipped (reported as 0). */
  sweepOrphans?: OrphanSweeper;
  observer?: LifecycleObserver;
  logger?: { warn(obj: object, msg: string): void };
}

const EMPTY: LifecycleCounts = {
  expired_rooms: 0,
  released_reservations: 0,
  expired_sessions: 0,
  expired_refresh_tokens: 0,
  expired_blacklist: 0,
  released_names: 0,
  released_download_leases: 0,
  blobs_deleted: 0,
  orphans_deleted: 0,
};

/**
 * The background lifecycle pass of API.md §6. Every step is idempotent and commits on its own,
 * so a pass that dies half-way leaves a consistent database and the next pass finishes the job:
 * a room row is deleted in the same transaction that queues its stored bytes, and the bytes
 * leave the queue only once they are gone.
 */
export class Lifecycle {
  private running?: Promise<LifecycleResult>;
  /** When this process last swept for orphans (clock ms); the first pass always sweeps. */
  private lastSweep?: number;

  constructor(private readonly deps: LifecycleDeps) {}

  /** One pass now; a call during a running pass of this process shares it. */
  runPass(): Promise<LifecycleResult> {
    this.running ??= this.guardedPass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Only the token step: expired sessions, refresh tokens and blacklist rows. */
  async cleanupAuth(): Promise<AuthCleanupCounts> {
    const { db } = this.deps.database;
    const now = this.deps.clock.now();
    return {
      expired_refresh_tokens: await lifecycleRepository.deleteExpiredRefreshTokens(db, now),
      expired_sessions: await lifecycleRepository.deleteExpiredSessions(db, now),
      expired_blacklist: await lifecycleRepository.deleteExpiredBlacklist(db, now),
    };
  }

  private async guardedPass(): Promise<LifecycleResult> {
    const started = Date.now();
    try {
      const { database } = this.deps;
      // SQLite is one file owned by one process: the in-process guard above is enough.
      const counts =
        database.dialect === 'postgres'
          ? await lifecycleRepository.withPostgresLock(database.db, () => this.pass())
          : await this.pass();
      const result: LifecycleResult = {
        ...(counts ?? EMPTY),
        skipped: counts === undefined,
        duration_ms: Date.now() - started,
      };
      this.deps.observer?.passFinished(result);
      return result;
    } catch (error) {
      this.deps.observer?.passFailed();
      throw error;
    }
  }

  /**
   * The orphan sweep lists the whole storage, so it runs once per `gc.orphan_sweep_interval_seconds`
   * (and in the first pass of a process: after a crash, at the restart; after a failed sweep, in
   * the next pass). Only keys last written more than one reservation TTL ago are candidates: an
   * upload in progress is never one.
   */
  private async sweepIfDue(): Promise<number> {
    const { sweepOrphans, clock, config } = this.deps;
    if (!sweepOrphans) return 0;
    const now = clock.now();
    if (this.lastSweep !== undefined && now - this.lastSweep < config.gc.orphan_sweep_interval_seconds * 1000)
      return 0;
    try {
      const removed = await sweepOrphans(now - config.upload.reservation_ttl_seconds * 1000);
      this.lastSweep = now;
      return removed;
    } catch (error) {
      // The pass's other steps are done; a storage that cannot be listed now is tried next pass.
      this.deps.logger?.warn({ err: error }, 'orphan sweep failed; will retry in the next pass');
      return 0;
    }
  }

  private async pass(): Promise<LifecycleCounts> {
    const { database, config, clock, events, blobs } = this.deps;
    const { db } = database;
    const limit = config.gc.batch_limit;

    let expiredRooms = 0;
    for (const room of await lifecycleRepository.listExpiredRooms(db, clock.now(), limit)) {
      const deleted = await db.transaction().execute(async (trx) => {
        const gone = await roomsRepository.deleteWithBlobs(trx, room.id, clock.now());
        // Its addresses answer "expired" for a while instead of opening a fresh room (API.md §1).
        if (gone)
          await roomsRepository.insertTombstones(
            trx,
            [room.slug, room.name],
            room.expire_at,
            clock.now() + ROOM_TOMBSTONE_MS,
          );
        return gone;
      });
      if (deleted) expiredRooms += 1;
      // Published even if a concurrent delete won: sockets of the room must close either way.
      events.publish({ type: 'room_deleted', room_id: room.id, slug: room.slug, reason: 'room_expired' });
    }

    const releasedReservations = this.deps.releaseExpiredReservations
      ? await this.deps.releaseExpiredReservations(clock.now(), limit)
      : 0;
    const auth = await this.cleanupAuth();
    const now = clock.now();
    await roomsRepository.deleteOldTombstones(db, now);
    const releasedNames = await lifecycleRepository.releaseReservedNames(
      db,
      now - config.room.share_disabled_lock_duration * 1000,
      now,
    );
    // Download slots of share links whose transfer's server died (its lease was not renewed).
    const releasedLeases = await db
      .transaction()
      .execute((trx) => shareLinksRepository.reclaimLapsedLeases(trx, now));
    // Drains everything queued, also by room deletions and uploads between passes.
    let blobsDeleted = 0;
    for (;;) {
      const removed = await blobs.drain();
      blobsDeleted += removed;
      if (removed === 0 || blobsDeleted >= limit * 50) break;
    }
    const orphansDeleted = await this.sweepIfDue();

    return {
      expired_rooms: expiredRooms,
      released_reservations: releasedReservations,
      ...auth,
      released_names: releasedNames,
      released_download_leases: releasedLeases,
      blobs_deleted: blobsDeleted,
      orphans_deleted: orphansDeleted,
    };
  }
}
