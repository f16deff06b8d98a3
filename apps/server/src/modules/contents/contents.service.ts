import { Readable } from 'node:stream';

import {
  type ContentView,
  type CreateLinkBody,
  type CreateMessageBody,
  type DeleteContentsResponse,
  type MessagePage,
  Permission,
  type UpdateContentBody,
} from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { AppConfig } from '../../config/types.js';
import { CONTENT_TYPE, type ContentRow, type ContentTypeCode, type DB } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, notFound, validationError } from '../../lib/errors.js';
import type { EventBus } from '../../realtime/events.js';
import type { BlobReaper } from '../../storage/blob-reaper.js';
import type { BlobStorage } from '../../storage/blob-storage.js';
import { linkScope, requireContentPermission, requireInScope } from '../rooms/rooms.policy.js';
import { postedBy } from '../sessions/author.js';
import type { RoomAuth, SessionAuthenticator } from '../sessions/session-auth.js';
import { displayFileName } from './file-names.js';
import { contentKindName, toContentView } from './contents.presenter.js';
import { contentsRepository, type MessageCursor } from './contents.repository.js';
import { messagesMarkdown } from './messages-markdown.js';

export interface ContentsDeps {
  db: Kysely<DB>;
  config: Pick<AppConfig, 'room' | 'storage'>;
  clock: Clock;
  events: EventBus;
  storage: BlobStorage;
  blobs: BlobReaper;
  authenticator: SessionAuthenticator;
}

const KIND_CODES: Record<string, ContentTypeCode> = {
  text: CONTENT_TYPE.text,
  image: CONTENT_TYPE.image,
  file: CONTENT_TYPE.file,
  url: CONTENT_TYPE.url,
};

const FILE_KINDS: ContentTypeCode[] = [CONTENT_TYPE.file, CONTENT_TYPE.image];

export const quotaExceeded = () =>
  new AppError('QUOTA_EXCEEDED', 'This would exceed the room size limit (max_size)');

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** A link must be an absolute http(s) URL; returns it trimmed. */
function checkUrl(raw: string, path: string): string {
  const url = raw.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw validationError('Links must be absolute http: or https: URLs', [
      { path, message: 'must be an absolute http: or https: URL' },
    ]);
  }
  return url;
}

function checkName(raw: string, path: string): string {
  const name = raw.trim();
  if (name === '') throw validationError('The name cannot be empty', [{ path, message: 'empty' }]);
  return name;
}

const description = (raw: string | null | undefined) => {
  const text = raw?.trim();
  return text ? text : null;
};

/** `"<seq>:<id>"` from a previous page's `next_cursor`. */
function parseCursor(raw: string | undefined): MessageCursor | undefined {
  if (raw === undefined) return undefined;
  const [seq, id] = raw.split(':').map(Number);
  if (
    seq === undefined ||
    id === undefined ||
    !Number.isSafeInteger(seq) ||
    seq < -(2 ** 31) ||
    seq >= 2 ** 31 ||
    !Number.isSafeInteger(id) ||
    id <= 0
  ) {
    throw validationError('Invalid message cursor', [{ path: 'querystring.cursor', message: 'invalid' }]);
  }
  return { sequence: seq, id };
}

/** A unique entry name inside an archive: `a.txt`, `a (1).txt`, … */
function uniqueEntryName(name: string, taken: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/** API.md §3: messages, links, listing, editing, deleting, downloads and archives. */
export class ContentsService {
  constructor(private readonly deps: ContentsDeps) {}

  /** Room quota and the global storage cap (`storage.max_total_size`, 507) in one step. */
  private reserveBytes(trx: Kysely<DB>, roomId: number, delta: number): Promise<boolean> {
    return contentsRepository.reserveRoomBytes(trx, roomId, delta, this.deps.config.storage.max_total_size);
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  private publish(
    type: 'content_created' | 'content_updated' | 'content_deleted',
    auth: RoomAuth,
    view: ContentView,
  ) {
    this.deps.events.publish({ type, room_id: auth.room.id, slug: auth.room.slug, content: view });
  }

  private checkMessage(raw: string, path: string): string {
    const text = raw.trim();
    if (text === '') throw validationError('Message text cannot be empty', [{ path, message: 'empty' }]);
    const limit = this.deps.config.room.max_message_bytes;
    if (byteLength(text) > limit) {
      throw new AppError('PAYLOAD_TOO_LARGE', `Messages are limited to ${limit} bytes (UTF-8)`);
    }
    return text;
  }

  async list(auth: RoomAuth, type: string | undefined): Promise<ContentView[]> {
    requireContentPermission(auth, Permission.VIEW);
    const kinds = type ? [...new Set(type.split(',').map((k) => KIND_CODES[k]!))] : [];
    const rows = await contentsRepository.listByRoom(this.deps.db, auth.room.id, kinds);
    const scope = linkScope(auth);
    return (scope ? rows.filter((r) => scope.has(r.id)) : rows).map(toContentView);
  }

  /** Reference §5.6.7: newest page first, items ascending inside the page. */
  async listMessages(auth: RoomAuth, limit: number, rawCursor: string | undefined): Promise<MessagePage> {
    requireContentPermission(auth, Permission.VIEW);
    const cursor = parseCursor(rawCursor);
    const { db } = this.deps;
    const rows = await contentsRepository.listMessagesBefore(db, auth.room.id, cursor, limit + 1);
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    const oldest = page[0];
    const scope = linkScope(auth);
    return {
      items: (scope ? page.filter((r) => scope.has(r.id)) : page).map(toContentView),
      next_cursor: hasMore && oldest ? `${oldest.sequence_number}:${oldest.id}` : null,
      has_more: hasMore,
      next_sequence_number: await contentsRepository.nextSequenceNumber(db, auth.room.id),
    };
  }

  async createMessage(auth: RoomAuth, body: CreateMessageBody): Promise<ContentView> {
    requireContentPermission(auth, Permission.EDIT);
    const text = this.checkMessage(body.text, 'body.text');
    const size = byteLength(text);
    const now = this.now;
    const row = await contentsRepository.insertMessageWithinQuota(
      this.deps.db,
      {
        room_id: auth.room.id,
        content_type: CONTENT_TYPE.text,
        text,
        url: null,
        file_name: null,
        storage_key: null,
        size,
        mime_type: 'text/plain',
        created_at: now,
        updated_at: now,
        ...postedBy(auth.session),
      },
      // Without a number the message goes after every other, so ordering follows arrival.
      { sequenceNumber: body.sequence_number, totalCap: this.deps.config.storage.max_total_size },
    );
    if (!row) throw quotaExceeded();
    const view = toContentView(row);
    this.publish('content_created', auth, view);
    return view;
  }

  async createLink(auth: RoomAuth, body: CreateLinkBody): Promise<ContentView> {
    const url = checkUrl(body.url, 'body.url');
    const name = checkName(body.name, 'body.name');
    requireContentPermission(auth, Permission.EDIT);
    const size = byteLength(url);
    const now = this.now;
    const row = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.reserveBytes(trx, auth.room.id, size))) throw quotaExceeded();
      return contentsRepository.insert(trx, {
        room_id: auth.room.id,
        content_type: CONTENT_TYPE.url,
        text: description(body.description),
        url,
        file_name: name,
        storage_key: null,
        size,
        mime_type: 'text/html',
        sequence_number: 0,
        created_at: now,
        updated_at: now,
        ...postedBy(auth.session),
      });
    });
    const view = toContentView(row);
    this.publish('content_created', auth, view);
    return view;
  }

  /** Messages take `text`, links `url`/`name`/`description`, files `file_name`; nothing else. */
  async update(auth: RoomAuth, id: number, body: UpdateContentBody): Promise<ContentView> {
    requireContentPermission(auth, Permission.EDIT);
    const given = (Object.keys(body) as Array<keyof UpdateContentBody>).filter((k) => body[k] !== undefined);
    if (given.length === 0) throw validationError('Nothing to update');
    const now = this.now;
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const current = await contentsRepository.findInRoom(trx, auth.room.id, id);
      if (!current) throw notFound('Content not found');
      const kind = contentKindName(current.content_type);
      const allowed: Record<string, ReadonlyArray<keyof UpdateContentBody>> = {
        text: ['text'],
        url: ['url', 'name', 'description'],
        file: ['file_name'],
        image: ['file_name'],
      };
      const wrong = given.filter((k) => !allowed[kind]!.includes(k));
      if (wrong.length > 0) {
        throw validationError(`A ${kind} content cannot take ${wrong.join(', ')}; its kind cannot change`, [
          ...wrong.map((k) => ({ path: `body.${k}`, message: `not a field of ${kind} contents` })),
        ]);
      }
      const patch: Parameters<typeof contentsRepository.update>[2] = { updated_at: now };
      let size = current.size;
      if (body.text !== undefined) {
        patch.text = this.checkMessage(body.text, 'body.text');
        size = byteLength(patch.text);
      }
      if (body.url !== undefined) {
        patch.url = checkUrl(body.url, 'body.url');
        size = byteLength(patch.url);
      }
      if (body.name !== undefined) patch.file_name = checkName(body.name, 'body.name');
      if (body.description !== undefined) patch.text = description(body.description);
      if (body.file_name !== undefined)
        patch.file_name = displayFileName(checkName(body.file_name, 'body.file_name'));
      if (size !== current.size) {
        patch.size = size;
        if (!(await this.reserveBytes(trx, auth.room.id, size - current.size))) {
          throw quotaExceeded();
        }
      }
      const updated = await contentsRepository.update(trx, id, patch);
      if (!updated) throw notFound('Content not found');
      return updated;
    });
    const view = toContentView(row);
    this.publish('content_updated', auth, view);
    return view;
  }

  async delete(auth: RoomAuth, ids: number[]): Promise<DeleteContentsResponse> {
    requireContentPermission(auth, Permission.DELETE);
    for (const id of ids) requireInScope(auth, id);
    const { deleted, size } = await this.remove(auth.room, ids);
    if (deleted.length === 0) throw notFound('Contents not found');
    return {
      deleted: deleted.map((r) => r.id),
      freed_size: deleted.reduce((sum, r) => sum + r.size, 0),
      current_size: size.current_size,
    };
  }

  /**
   * Deletes contents of a room with their stored bytes and tells the room; no permission check
   * (the callers did it: a manager's delete, or a burn-after-reading link at its last download).
   */
  async remove(
    room: { id: number; slug: string },
    ids: number[],
  ): Promise<{ deleted: ContentRow[]; size: { current_size: number } }> {
    const now = this.now;
    const result = await this.deps.db.transaction().execute(async (trx) => {
      const rows = await contentsRepository.deleteWithBlobs(trx, room.id, [...new Set(ids)], now);
      if (rows.length === 0) return { deleted: rows, size: { current_size: 0 } };
      const freed = rows.reduce((sum, r) => sum + r.size, 0);
      await contentsRepository.releaseRoomBytes(trx, room.id, freed);
      return { deleted: rows, size: await contentsRepository.roomSize(trx, room.id) };
    });
    await this.deps.blobs.drain();
    for (const row of result.deleted) {
      this.deps.events.publish({
        type: 'content_deleted',
        room_id: room.id,
        slug: room.slug,
        content: toContentView(row),
      });
    }
    return result;
  }

  /** The stored file behind `GET /contents/{id}`, for a token that may view its room. */
  async getDownload(
    id: number,
    token: string,
  ): Promise<{ content: ContentRow; storageKey: string; auth: RoomAuth }> {
    const auth = await this.deps.authenticator.authenticateToken(token);
    const content = await contentsRepository.findById(this.deps.db, id);
    // A missing id answers like another room's (API.md: a token for another room is a 401):
    // no token can tell the ids of other rooms from unused ones.
    if (!content || content.room_id !== auth.room.id) {
      throw new AppError('AUTHENTICATION_FAILED', 'This token does not open this content');
    }
    requireContentPermission(auth, Permission.VIEW);
    requireInScope(auth, id);
    if (content.storage_key === null)
      throw notFound('This content has no stored bytes (it is a message or a link)');
    return { content, storageKey: content.storage_key, auth };
  }

  /**
   * A zip of the chosen files (all when `ids` is absent) plus `messages.md` unless `messages` is
   * false. Entries are added one at a time, each opened only when the previous one is written, so
   * memory and open files stay flat whatever the size or number of files.
   */
  async archive(
    auth: RoomAuth,
    ids: number[] | undefined,
    { messages = true }: { messages?: boolean } = {},
  ): Promise<Readable> {
    requireContentPermission(auth, Permission.VIEW);
    const { db, storage } = this.deps;
    const roomId = auth.room.id;
    let files: ContentRow[];
    // The archive carries every message of the room: not for a link limited to some contents.
    if (linkScope(auth)) {
      throw new AppError('PERMISSION_DENIED', 'A link limited to some contents downloads them one by one');
    }
    if (ids) {
      const wanted = new Set(ids);
      files = (await contentsRepository.listByRoom(db, roomId, FILE_KINDS)).filter((r) => wanted.has(r.id));
      if (files.length === 0) throw notFound('None of these contents is a file of this room');
    } else {
      files = await contentsRepository.listByRoom(db, roomId, FILE_KINDS);
    }

    // Loaded on the first export: most servers never build an archive.
    const { ZipArchive } = await import('archiver');
    const zip = new ZipArchive({ zlib: { level: 6 } });
    const taken = new Set<string>(messages ? ['messages.md'] : []);
    const entryWritten = () =>
      new Promise<void>((ok, fail) => {
        const onEntry = () => {
          zip.off('error', onError);
          ok();
        };
        const onError = (error: Error) => {
          zip.off('entry', onEntry);
          fail(error);
        };
        zip.once('entry', onEntry);
        zip.once('error', onError);
      });

    const fill = async () => {
      const pageOf = (afterId: number) =>
        contentsRepository.listPage(db, roomId, [CONTENT_TYPE.text, CONTENT_TYPE.url], afterId, 200);
      if (messages) {
        const written = entryWritten();
        zip.append(Readable.from(messagesMarkdown(auth.room.name, pageOf)), { name: 'messages.md' });
        await written;
      }
      for (const file of files) {
        if (file.storage_key === null) continue;
        const stream = await storage.read(file.storage_key);
        const written = entryWritten();
        // Already-compressed formats gain nothing from deflate; storing them saves CPU.
        zip.append(stream, {
          name: uniqueEntryName(file.file_name ?? `file-${file.id}`, taken),
          date: new Date(file.created_at),
          store: !/^(text\/|application\/(json|xml|javascript)|image\/svg)/.test(file.mime_type ?? ''),
        });
        await written;
      }
      await zip.finalize();
    };
    fill().catch((error: unknown) => {
      zip.destroy(error instanceof Error ? error : new Error(String(error)));
    });
    return zip;
  }
}
