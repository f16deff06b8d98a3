import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import {
  type ContentView,
  Permission,
  type PrepareUploadBody,
  type PrepareUploadResponse,
  type UploadResponse,
  type WsUploadInProgress,
} from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { AppConfig } from '../../config/types.js';
import { CONTENT_TYPE, type ContentRow, type DB, type UploadReservationRow } from '../../db/index.js';
import { type Clock, toIso } from '../../lib/clock.js';
import { AppError, conflict, notFound, permissionDenied, validationError } from '../../lib/errors.js';
import type { EventBus } from '../../realtime/events.js';
import type { BlobReaper } from '../../storage/blob-reaper.js';
import { type BlobStorage, TUS_KEY_PREFIX } from '../../storage/blob-storage.js';
import { displayFileName, isImage, mimeTypeOf } from '../contents/file-names.js';
import { toContentView } from '../contents/contents.presenter.js';
import { contentsRepository } from '../contents/contents.repository.js';
import { quotaExceeded } from '../contents/contents.service.js';
import { requireContentPermission } from '../rooms/rooms.policy.js';
import { roomsRepository } from '../rooms/rooms.repository.js';
import { authorOf, postedBy } from '../sessions/author.js';
import { sessionsRepository } from '../sessions/sessions.repository.js';
import type { RoomAuth } from '../sessions/session-auth.js';
import { type Manifest, parseManifest, releaseReservation, writeManifest } from './reservations.js';
import { uploadsRepository } from './uploads.repository.js';

export interface UploadsDeps {
  db: Kysely<DB>;
  config: Pick<AppConfig, 'upload' | 'storage'>;
  clock: Clock;
  events: EventBus;
  storage: BlobStorage;
  blobs: BlobReaper;
  /** This server process, as the owner of the uploads it streams (see reservations.ts). */
  owner: string;
}

/** One file part of a multipart body, as the routes hand it over. */
export interface IncomingFile {
  fileName: string;
  mimeType: string;
  stream: Readable;
  /** True when the part was cut at `upload.max_file_size`. */
  truncated(): boolean;
}

/** How much quota a one-shot upload takes at a time beyond what it needs right now. */
const QUOTA_STEP = 8 * 1024 * 1024;

/** A tus upload's progress is published at most this often per upload (and once at its end). */
export const UPLOAD_PROGRESS_INTERVAL_MS = 500;

/** What the tus routes learn about an upload before touching it. */
export interface TusUploadAccess {
  /** The reservation's id: the upload's public id in `upload_progress` frames. */
  id: number;
  size: number;
  expiresAt: number;
  fileName: string;
}

/** A tus upload's latest progress on this instance, waiting for its turn to be told. */
interface ProgressEntry {
  auth: RoomAuth;
  upload: TusUploadAccess;
  offset: number;
  /** Whether `offset` has not been told yet. */
  pending: boolean;
  timer?: NodeJS.Timeout;
}

const tooLarge = (max: number) => new AppError('PAYLOAD_TOO_LARGE', `Files are limited to ${max} bytes`);

/** Where a simple upload's file goes; never derived from anything the client sent. */
const fileKey = (roomId: number) => `rooms/${roomId}/${randomUUID()}`;

/** API.md §3: the two-step upload, the one-shot multipart upload and the tus lifecycle. */
export class UploadsService {
  /** Per tus upload (reservation id): when its progress last went out from here, and the one held back. */
  private readonly progress = new Map<number, ProgressEntry>();

  constructor(private readonly deps: UploadsDeps) {}

  /** Room quota and the global storage cap (`storage.max_total_size`, 507) in one step. */
  private reserveBytes(trx: Kysely<DB>, roomId: number, delta: number): Promise<boolean> {
    return contentsRepository.reserveRoomBytes(trx, roomId, delta, this.deps.config.storage.max_total_size);
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  private get ttlMs(): number {
    return this.deps.config.upload.reservation_ttl_seconds * 1000;
  }

  private publishCreated(roomId: number, slug: string, views: ContentView[]) {
    for (const content of views)
      this.deps.events.publish({ type: 'content_created', room_id: roomId, slug, content });
  }

  /** `POST /contents/prepare`: reserves the quota for a manifest of files. */
  async prepare(auth: RoomAuth, body: PrepareUploadBody): Promise<PrepareUploadResponse> {
    requireContentPermission(auth, Permission.EDIT);
    const seen = new Set<string>();
    const max = this.deps.config.upload.max_file_size;
    for (const [i, file] of body.files.entries()) {
      if (seen.has(file.name)) {
        throw validationError(`Duplicate file name ${file.name}`, [
          { path: `body.files.${i}.name`, message: 'duplicate' },
        ]);
      }
      seen.add(file.name);
      if (file.size > max) throw tooLarge(max);
    }
    const total = body.files.reduce((sum, f) => sum + f.size, 0);
    const now = this.now;
    const manifest: Manifest = {
      files: body.files.map((f) => ({ name: f.name, size: f.size, mime: f.mime ?? null })),
    };
    const { reservation, room } = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.reserveBytes(trx, auth.room.id, total))) throw quotaExceeded();
      const reservation = await uploadsRepository.insert(trx, {
        room_id: auth.room.id,
        session_jti: auth.claims.jti,
        kind: 'simple',
        manifest: writeManifest(manifest),
        reserved_size: total,
        upload_id: null,
        storage_key: null,
        created_at: now,
        expires_at: now + this.ttlMs,
        consumed_at: null,
        started_at: null,
        owner: null,
      });
      return { reservation, room: await contentsRepository.roomSize(trx, auth.room.id) };
    });
    return {
      reservation_id: reservation.id,
      reserved_size: total,
      expires_at: toIso(reservation.expires_at),
      current_size: room.current_size,
      remaining_size: Math.max(room.max_size - room.current_size, 0),
      max_size: room.max_size,
    };
  }

  /**
   * `POST /contents?reservation_id=`: the files of a prepared manifest. Everything that can be
   * refused is refused before the body is read; a failure after that releases the reservation
   * and removes whatever was written.
   */
  async uploadReserved(
    auth: RoomAuth,
    reservationId: number,
    files: AsyncIterable<IncomingFile>,
  ): Promise<UploadResponse> {
    requireContentPermission(auth, Permission.EDIT);
    const { db } = this.deps;
    const now = this.now;
    const reservation = await uploadsRepository.findById(db, reservationId);
    if (!reservation || reservation.room_id !== auth.room.id || reservation.kind !== 'simple') {
      throw notFound('Reservation not found');
    }
    if (reservation.session_jti !== auth.claims.jti)
      throw permissionDenied('This reservation belongs to another session');
    if (reservation.consumed_at !== null) throw conflict('This reservation was already used');
    if (reservation.started_at !== null) throw conflict('An upload for this reservation is already running');
    if (reservation.expires_at <= now) {
      await this.release(reservation.id, []);
      throw validationError('The reservation has expired; prepare the upload again');
    }
    if (!(await uploadsRepository.claim(db, reservation.id, now, this.deps.owner))) {
      throw conflict('This reservation was already used');
    }

    const manifest = parseManifest(reservation.manifest);
    const written: string[] = [];
    try {
      const uploaded: Array<{ name: string; size: number; key: string; mime: string }> = [];
      for await (const file of files) {
        const entry = manifest.files.find((f) => f.name === file.fileName);
        if (!entry) throw validationError(`Unexpected file: ${file.fileName}`);
        if (entry.key) throw validationError(`Duplicate upload file: ${file.fileName}`);
        entry.key = fileKey(auth.room.id);
        // Recorded before the first byte, so a crash leaves the key to the expiry cleanup.
        await this.recordKey(reservation.id, manifest);
        written.push(entry.key);
        const mime = mimeTypeOf(entry.name, entry.mime ?? file.mimeType);
        const size = await this.deps.storage.put(entry.key, file.stream, {
          contentType: mime,
          onProgress: (bytes) => {
            if (bytes > entry.size)
              throw validationError(`File size mismatch for ${entry.name}: more than ${entry.size} bytes`);
          },
        });
        if (file.truncated()) throw tooLarge(this.deps.config.upload.max_file_size);
        if (size !== entry.size)
          throw validationError(`File size mismatch for ${entry.name}: ${size} of ${entry.size} bytes`);
        uploaded.push({ name: entry.name, size, key: entry.key, mime });
      }
      if (uploaded.length === 0) throw validationError('No files uploaded');
      if (uploaded.length !== manifest.files.length)
        throw validationError('Uploaded file count does not match the reservation');
      return await this.finish(auth, reservation, uploaded, manifest);
    } catch (error) {
      throw await this.failed(reservation.id, written, error);
    }
  }

  /**
   * `POST /contents` without a reservation: one-shot multipart for scripts. Quota is taken while
   * the bytes stream (the whole Content-Length at once when it fits, else step by step), so a
   * room can never be overfilled and a refused upload keeps nothing.
   */
  async uploadOneShot(
    auth: RoomAuth,
    files: AsyncIterable<IncomingFile>,
    contentLength: number | undefined,
  ): Promise<UploadResponse> {
    requireContentPermission(auth, Permission.EDIT);
    const { db } = this.deps;
    const { max_request_size: maxRequest, max_file_size: maxFile } = this.deps.config.upload;
    if (contentLength !== undefined && contentLength > maxRequest) {
      throw new AppError('PAYLOAD_TOO_LARGE', `Upload requests are limited to ${maxRequest} bytes`);
    }
    const now = this.now;
    const manifest: Manifest = { files: [] };
    const reservation = await db.transaction().execute(async (trx) => {
      const upfront =
        contentLength !== undefined && (await this.reserveBytes(trx, auth.room.id, contentLength));
      return uploadsRepository.insert(trx, {
        room_id: auth.room.id,
        session_jti: auth.claims.jti,
        kind: 'simple',
        manifest: writeManifest(manifest),
        reserved_size: upfront ? contentLength : 0,
        upload_id: null,
        storage_key: null,
        created_at: now,
        expires_at: now + this.ttlMs,
        consumed_at: null,
        started_at: now,
        owner: this.deps.owner,
      });
    });

    let reserved = reservation.reserved_size;
    let previous = 0;
    const grow = async (needed: number) => {
      if (needed <= reserved) return;
      const attempt = async (delta: number) =>
        db.transaction().execute(async (trx) => {
          if (!(await this.reserveBytes(trx, auth.room.id, delta))) return false;
          await uploadsRepository.addReserved(trx, reservation.id, delta);
          return true;
        });
      const minimum = needed - reserved;
      if (await attempt(minimum + QUOTA_STEP)) reserved += minimum + QUOTA_STEP;
      else if (await attempt(minimum)) reserved += minimum;
      else throw quotaExceeded();
    };

    const written: string[] = [];
    try {
      const uploaded: Array<{ name: string; size: number; key: string; mime: string }> = [];
      for await (const file of files) {
        const name = displayFileName(file.fileName);
        const key = fileKey(auth.room.id);
        manifest.files.push({ name, size: 0, mime: null, key });
        await this.recordKey(reservation.id, manifest);
        written.push(key);
        const mime = mimeTypeOf(name, file.mimeType);
        const size = await this.deps.storage.put(key, file.stream, {
          contentType: mime,
          onProgress: (bytes) => {
            if (previous + bytes > maxRequest)
              throw new AppError('PAYLOAD_TOO_LARGE', `Upload requests are limited to ${maxRequest} bytes`);
            // Synchronous while the bytes fit what is reserved: no promise per chunk.
            if (previous + bytes > reserved) return grow(previous + bytes);
          },
        });
        if (file.truncated()) throw tooLarge(maxFile);
        previous += size;
        uploaded.push({ name, size, key, mime });
      }
      if (uploaded.length === 0)
        throw validationError('No files uploaded: send at least one file part (curl -F file=@path)');
      return await this.finish(auth, { ...reservation, reserved_size: reserved }, uploaded, manifest);
    } catch (error) {
      throw await this.failed(reservation.id, written, error);
    }
  }

  /**
   * Saves the manifest with the key about to be written. A reservation released meanwhile (its
   * room deleted, or expired and collected) would not name the key, so a crash during the write
   * would leave bytes that no row names: nothing is written then.
   */
  private async recordKey(reservationId: number, manifest: Manifest): Promise<void> {
    if (!(await uploadsRepository.update(this.deps.db, reservationId, { manifest: writeManifest(manifest) })))
      throw conflict('The reservation expired or was released during the upload');
  }

  /** Turns the written files into contents and consumes the reservation, in one transaction. */
  private async finish(
    auth: RoomAuth,
    reservation: UploadReservationRow,
    files: Array<{ name: string; size: number; key: string; mime: string }>,
    manifest: Manifest,
  ): Promise<UploadResponse> {
    const now = this.now;
    const actual = files.reduce((sum, f) => sum + f.size, 0);
    const { rows, size } = await this.deps.db.transaction().execute(async (trx) => {
      const consumed = await uploadsRepository.consume(trx, reservation.id, now, {
        reserved_size: actual,
        manifest: writeManifest({
          files: manifest.files.map((f) => ({
            ...f,
            size: files.find((u) => u.key === f.key)?.size ?? f.size,
          })),
        }),
      });
      // Released meanwhile (expired and collected, or the room was deleted).
      if (!consumed) throw conflict('The reservation expired or was released during the upload');
      // The reservation's bytes become the files' bytes; only a difference moves the quota.
      const held = reservation.reserved_size;
      if (actual > held && !(await this.reserveBytes(trx, auth.room.id, actual - held))) {
        throw quotaExceeded();
      }
      if (actual < held) await contentsRepository.releaseRoomBytes(trx, auth.room.id, held - actual);
      const rows: ContentRow[] = [];
      for (const file of files) {
        rows.push(
          await contentsRepository.insert(trx, {
            room_id: auth.room.id,
            content_type: isImage(file.mime) ? CONTENT_TYPE.image : CONTENT_TYPE.file,
            text: null,
            url: null,
            file_name: displayFileName(file.name),
            storage_key: file.key,
            size: file.size,
            mime_type: file.mime,
            sequence_number: 0,
            created_at: now,
            updated_at: now,
            ...postedBy(auth.session),
          }),
        );
      }
      return { rows, size: await contentsRepository.roomSize(trx, auth.room.id) };
    });
    const views = rows.map(toContentView);
    this.publishCreated(auth.room.id, auth.room.slug, views);
    return { uploaded: views, current_size: size.current_size };
  }

  /**
   * Cleans up after a failed multipart upload and says why it failed. When the reservation was
   * released meanwhile (the room was deleted or expired, or the reservation ran out) the storage
   * error is only a consequence — its bytes were deleted under it — and the answer is a 409.
   */
  private async failed(reservationId: number, written: string[], error: unknown): Promise<unknown> {
    const released = await uploadsRepository.findById(this.deps.db, reservationId).then(
      (row) => row === undefined,
      () => false,
    );
    await this.release(reservationId, written);
    if (error instanceof AppError || !released) return error;
    return conflict('The reservation expired or was released during the upload');
  }

  /** Gives a failed upload's quota back and removes what it wrote. */
  private async release(reservationId: number, written: string[]): Promise<void> {
    const now = this.now;
    await this.deps.db.transaction().execute(async (trx) => {
      await releaseReservation(trx, reservationId, now);
      // Keys written after the reservation was released elsewhere are not in its manifest.
      await contentsRepository.queueBlobDeletions(trx, written, now);
    });
    await this.deps.blobs.drain();
  }

  // --- tus (the protocol itself is @tus/server's; these are its hooks) ---

  /** On tus creation: reserves `size` bytes for upload `urlId` stored at `tus/<urlId>`. */
  async createTusReservation(
    auth: RoomAuth,
    urlId: string,
    size: number,
    metadata: Record<string, string | null>,
  ): Promise<void> {
    requireContentPermission(auth, Permission.EDIT);
    const max = this.deps.config.upload.max_file_size;
    if (size > max) throw tooLarge(max);
    const name = displayFileName(metadata.filename ?? metadata.name ?? 'upload');
    const mime = mimeTypeOf(name, metadata.filetype ?? metadata.type ?? null);
    const now = this.now;
    const reservation = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.reserveBytes(trx, auth.room.id, size))) throw quotaExceeded();
      return uploadsRepository.insert(trx, {
        room_id: auth.room.id,
        session_jti: auth.claims.jti,
        kind: 'tus',
        manifest: writeManifest({ files: [{ name, size, mime }] }),
        reserved_size: size,
        upload_id: urlId,
        storage_key: TUS_KEY_PREFIX + urlId,
        created_at: now,
        expires_at: now + this.ttlMs,
        consumed_at: null,
        started_at: now,
        owner: null,
      });
    });
    this.tusProgress(
      auth,
      { id: reservation.id, size, expiresAt: reservation.expires_at, fileName: name },
      0,
    );
  }

  /**
   * Tells the room how far a tus upload got (`upload_progress`): the first report at once, then
   * at most one per `UPLOAD_PROGRESS_INTERVAL_MS` with the latest offset (and the uploader's
   * name as its latest request saw it). Reports of one upload on this instance go out in order
   * and never after its end; an upload quiet for an interval is forgotten here.
   */
  tusProgress(auth: RoomAuth, upload: TusUploadAccess, offset: number): void {
    const entry = this.progress.get(upload.id);
    if (entry) {
      Object.assign(entry, { auth, upload, offset, pending: true });
      return;
    }
    const fresh = { auth, upload, offset, pending: true };
    this.progress.set(upload.id, fresh);
    this.flushProgress(fresh);
  }

  private flushProgress(entry: ProgressEntry): void {
    if (entry.pending) {
      const { auth, upload, offset } = entry;
      const author = authorOf(auth.session);
      entry.pending = false;
      this.deps.events.publish({
        type: 'upload_progress',
        room_id: auth.room.id,
        slug: auth.room.slug,
        upload: {
          id: upload.id,
          file_name: upload.fileName,
          size: upload.size,
          offset,
          author_id: author.author_id,
          author_name: author.display_name,
          expires_at: toIso(upload.expiresAt),
        } satisfies WsUploadInProgress,
      });
    } else {
      this.progress.delete(entry.upload.id);
      return;
    }
    entry.timer = setTimeout(() => this.flushProgress(entry), UPLOAD_PROGRESS_INTERVAL_MS);
    entry.timer.unref();
  }

  /** The upload finished or was given up: no more progress from here, and the room hears so. */
  private tusEnded(roomId: number, slug: string, id: number, reason: 'finished' | 'aborted'): void {
    const entry = this.progress.get(id);
    clearTimeout(entry?.timer);
    this.progress.delete(id);
    this.deps.events.publish({ type: 'upload_ended', room_id: roomId, slug, id, reason });
  }

  /**
   * Before tus touches upload `urlId`: it must be a live upload of this room. Returns its
   * declared size and expiry (the PATCH fast path needs nothing else of its metadata).
   */
  async checkTusAccess(auth: RoomAuth, urlId: string): Promise<TusUploadAccess> {
    requireContentPermission(auth, Permission.EDIT);
    const reservation = await uploadsRepository.findByUploadId(this.deps.db, urlId);
    if (!reservation || reservation.room_id !== auth.room.id || reservation.kind !== 'tus') {
      throw notFound('Upload not found');
    }
    if (reservation.consumed_at !== null) throw conflict('This upload is already finished');
    if (reservation.expires_at <= this.now) throw notFound('This upload has expired');
    const file = parseManifest(reservation.manifest).files[0];
    return {
      id: reservation.id,
      size: file?.size ?? reservation.reserved_size,
      expiresAt: reservation.expires_at,
      fileName: file?.name ?? 'upload',
    };
  }

  /** The last byte of upload `urlId` arrived: it becomes a content of its room. */
  async finishTus(urlId: string, size: number): Promise<ContentView> {
    const now = this.now;
    if (size === 0) {
      // An empty upload finishes at creation, before any byte: the S3 store has only opened a
      // multipart upload (never completed, no object), so the empty object is written here.
      const live = await uploadsRepository.findByUploadId(this.deps.db, urlId);
      if (!live || live.consumed_at !== null) throw conflict('This upload was released or finished');
      await this.deps.storage.put(TUS_KEY_PREFIX + urlId, Readable.from([]));
    }
    const { row, slug, reservationId } = await this.deps.db.transaction().execute(async (trx) => {
      const reservation = await uploadsRepository.findByUploadId(trx, urlId);
      if (!reservation || reservation.consumed_at !== null)
        throw conflict('This upload was released or finished');
      const file = parseManifest(reservation.manifest).files[0];
      if (!file || file.size !== size) throw conflict('The upload does not match its reservation');
      if (!(await uploadsRepository.consume(trx, reservation.id, now, {})))
        throw conflict('This upload was released or finished');
      const room = await trx
        .selectFrom('rooms')
        .select('slug')
        .where('id', '=', reservation.room_id)
        .executeTakeFirstOrThrow();
      // The uploader's session may have been refreshed since: the author is the same person.
      const session = await sessionsRepository.findSession(trx, reservation.session_jti);
      const row = await contentsRepository.insert(trx, {
        room_id: reservation.room_id,
        content_type: isImage(file.mime ?? '') ? CONTENT_TYPE.image : CONTENT_TYPE.file,
        text: null,
        url: null,
        file_name: file.name,
        storage_key: reservation.storage_key,
        size,
        mime_type: file.mime,
        sequence_number: 0,
        created_at: now,
        updated_at: now,
        ...(session ? postedBy(session) : {}),
      });
      return { row, slug: room.slug, reservationId: reservation.id };
    });
    const view = toContentView(row);
    this.tusEnded(row.room_id, slug, reservationId, 'finished');
    this.publishCreated(row.room_id, slug, [view]);
    return view;
  }

  /** Removes tus's bookkeeping of a finished upload (after tus is done with it). */
  async dropTusMetadata(urlId: string): Promise<void> {
    await this.deps.storage.dropTusMetadata(TUS_KEY_PREFIX + urlId);
  }

  /** Termination (or a failed creation): quota back, partial bytes deleted. */
  async releaseTus(urlId: string): Promise<void> {
    const reservation = await uploadsRepository.findByUploadId(this.deps.db, urlId);
    if (!reservation || reservation.consumed_at !== null) return;
    await this.release(reservation.id, []);
    const room = await roomsRepository.findById(this.deps.db, reservation.room_id);
    if (room) this.tusEnded(room.id, room.slug, reservation.id, 'aborted');
  }
}
