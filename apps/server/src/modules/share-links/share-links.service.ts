import { createHash, createHmac, randomBytes } from 'node:crypto';

import {
  type CreateShareLinkBody,
  type OpenShareLinkBody,
  type OpenShareLinkResponse,
  Permission,
  SHARE_LINK_QUERY,
  type ShareLinkAccess,
  type ShareLinkReason,
  type ShareLinkView,
} from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { AppConfig } from '../../config/types.js';
import type { DB } from '../../db/index.js';
import type { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { type Clock, toIso } from '../../lib/clock.js';
import { AppError, notFound, validationError } from '../../lib/errors.js';
import type { PasswordHasher } from '../../lib/password.js';
import type { EventBus } from '../../realtime/events.js';
import { contentsRepository } from '../contents/contents.repository.js';
import { requireManage } from '../rooms/rooms.policy.js';
import { type RoomRow, roomsRepository } from '../rooms/rooms.repository.js';
import { assertRoomOpen, type RoomAuth } from '../sessions/session-auth.js';
import { checkLimitedPassword, type SessionsService } from '../sessions/sessions.service.js';
import { type ShareLinkRow, shareLinksRepository } from './share-links.repository.js';

export interface ShareLinksDeps {
  db: Kysely<DB>;
  config: AppConfig;
  clock: Clock;
  events: EventBus;
  sessions: SessionsService;
  passwords: PasswordHasher;
  passwordAttempts: AttemptLimiter;
  /** Deletes contents of a room with their bytes and tells the room (burn after reading). */
  burn: (room: { id: number; slug: string }, ids: number[]) => Promise<unknown>;
  logger?: { warn(obj: object, msg: string): void };
}

/** A transfer holding one of a link's download slots; `finish` once, when the response ends. */
export interface DownloadTicket {
  finish(completed: boolean): Promise<void>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export const linkGone = (reason: ShareLinkReason, message: string) =>
  new AppError('SHARE_LINK_GONE', message, { details: [{ path: 'reason', message: reason }] });

const scopeOf = (link: ShareLinkRow): number[] | null =>
  link.content_ids === null ? null : (JSON.parse(link.content_ids) as number[]);

/**
 * Share links (API.md, "Share links"). The secret is `HMAC(key, nonce)` with a key derived
 * from the server's JWT secret: the database keeps the nonce and the secret's SHA-256 only, so
 * a copy of the database reveals no secret, while managers can still be shown every link.
 */
export class ShareLinksService {
  private readonly key: Buffer;

  constructor(private readonly deps: ShareLinksDeps) {
    this.key = createHmac('sha256', deps.config.jwt.secret).update('elizabeth share links').digest();
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  private secretOf(nonce: string): string {
    return createHmac('sha256', this.key).update(nonce).digest('base64url');
  }

  private publish(
    room: { id: number; slug: string },
    linkId: number,
    reason: 'created' | 'revoked' | 'used',
  ) {
    this.deps.events.publish({
      type: 'share_links_changed',
      room_id: room.id,
      slug: room.slug,
      link_id: linkId,
      reason,
    });
  }

  private present(link: ShareLinkRow, room: RoomRow): ShareLinkView {
    const secret = this.secretOf(link.nonce);
    const known = sha256(secret) === link.secret_hash;
    return {
      id: link.id,
      permission: link.permission,
      password_protected: link.password_hash !== null,
      expire_at: toIso(link.expire_at),
      max_uses: link.max_uses,
      uses: link.uses,
      max_downloads: link.max_downloads,
      downloads: link.downloads,
      burn_after_reading: link.burn_after_reading === 1,
      content_ids: scopeOf(link),
      created_at: toIso(link.created_at),
      revoked_at: link.revoked_at === null ? null : toIso(link.revoked_at),
      secret: known ? secret : null,
      path: known ? `/${encodeURIComponent(room.slug)}?${SHARE_LINK_QUERY}=${secret}` : null,
    };
  }

  /** `POST /rooms/{name}/share-links`. */
  async create(auth: RoomAuth, body: CreateShareLinkBody): Promise<ShareLinkView> {
    requireManage(auth);
    const { room } = auth;
    const now = this.now;
    const invalid = (path: string, message: string) => validationError(message, [{ path, message }]);
    if ((body.permission & ~room.permission) !== 0) {
      throw invalid('body.permission', 'A link cannot have a permission the room does not have');
    }
    const expireAt =
      body.expires_in_seconds === undefined ? room.expire_at : now + body.expires_in_seconds * 1000;
    if (expireAt > room.expire_at) {
      throw invalid('body.expires_in_seconds', 'A link cannot outlive its room');
    }
    const ids = body.content_ids ? [...new Set(body.content_ids)] : undefined;
    if (ids) {
      if (body.permission !== Permission.VIEW) {
        throw invalid('body.permission', 'A link limited to some contents can only view (permission 1)');
      }
      const found = await contentsRepository.listInRoom(this.deps.db, room.id, ids);
      if (found.length !== ids.length)
        throw invalid('body.content_ids', 'Some of these contents are not in the room');
      if (body.max_downloads !== undefined && found.some((c) => c.storage_key === null)) {
        throw invalid('body.max_downloads', 'Download limits apply to files only');
      }
    } else if (body.max_downloads !== undefined) {
      throw invalid('body.max_downloads', 'Download limits need content_ids (a file link)');
    }
    if (body.burn_after_reading && body.max_downloads === undefined) {
      throw invalid('body.burn_after_reading', 'Burn after reading needs max_downloads');
    }
    const passwordHash = body.password === undefined ? null : await this.deps.passwords.hash(body.password);
    const nonce = randomBytes(32).toString('base64url');
    const link = await shareLinksRepository.insert(this.deps.db, {
      room_id: room.id,
      secret_hash: sha256(this.secretOf(nonce)),
      nonce,
      permission: body.permission,
      password_hash: passwordHash,
      expire_at: expireAt,
      max_uses: body.max_uses ?? null,
      max_downloads: body.max_downloads ?? null,
      burn_after_reading: body.burn_after_reading ? 1 : 0,
      content_ids: ids ? JSON.stringify(ids) : null,
      created_by: auth.claims.jti,
      created_at: now,
      revoked_at: null,
    });
    this.publish(room, link.id, 'created');
    return this.present(link, room);
  }

  /** `GET /rooms/{name}/share-links`: live links newest first, or all of them. */
  async list(auth: RoomAuth, includeInactive: boolean): Promise<ShareLinkView[]> {
    requireManage(auth);
    const rows = await shareLinksRepository.listByRoom(
      this.deps.db,
      auth.room.id,
      includeInactive ? {} : { activeAt: this.now },
    );
    return rows.map((row) => this.present(row, auth.room));
  }

  /** `DELETE /rooms/{name}/share-links/{id}`: the link and every session it issued end. */
  async revoke(auth: RoomAuth, id: number): Promise<{ revoked: boolean }> {
    requireManage(auth);
    const link = await shareLinksRepository.findById(this.deps.db, id);
    if (!link || link.room_id !== auth.room.id) throw notFound('No such share link in this room');
    const now = this.now;
    const { revoked, jtis } = await this.deps.db.transaction().execute(async (trx) => ({
      revoked: await shareLinksRepository.revoke(trx, id, now),
      jtis: await shareLinksRepository.revokeSessions(trx, id, now),
    }));
    if (jtis.length > 0) {
      this.deps.events.publish({
        type: 'sessions_revoked',
        room_id: auth.room.id,
        slug: auth.room.slug,
        jtis,
        reason: 'session_revoked',
      });
    }
    if (revoked) this.publish(auth.room, id, 'revoked');
    return { revoked };
  }

  /** Fails with the reason a link cannot be used now. */
  private assertLive(link: ShareLinkRow): void {
    if (link.revoked_at !== null) throw linkGone('revoked', 'This link was revoked');
    if (link.expire_at <= this.now) throw linkGone('expired', 'This link has expired');
    if (link.max_uses !== null && link.uses >= link.max_uses) {
      throw linkGone('uses_exhausted', 'This link has been used as many times as it allows');
    }
    if (link.max_downloads !== null && link.downloads >= link.max_downloads) {
      throw linkGone('downloads_exhausted', 'This link was already downloaded as many times as it allows');
    }
  }

  private access(link: ShareLinkRow): ShareLinkAccess {
    return {
      id: link.id,
      permission: link.permission,
      expire_at: toIso(link.expire_at),
      content_ids: scopeOf(link),
      max_downloads: link.max_downloads,
      downloads_left: link.max_downloads === null ? null : Math.max(0, link.max_downloads - link.downloads),
      burn_after_reading: link.burn_after_reading === 1,
    };
  }

  /** `POST /share-links/open`: a session with the link's permission; takes one of its uses. */
  async open(body: OpenShareLinkBody, client: string): Promise<OpenShareLinkResponse> {
    const { db } = this.deps;
    const link = await shareLinksRepository.findByHash(db, sha256(body.secret));
    if (!link) throw notFound('No such share link');
    const room = await roomsRepository.findById(db, link.room_id);
    if (!room) throw notFound('No such share link');
    assertRoomOpen(room, this.now);
    this.assertLive(link);
    if (link.password_hash !== null) {
      const required = (message: string) =>
        new AppError('AUTHENTICATION_FAILED', message, {
          details: [{ path: 'reason', message: 'password_required' }],
        });
      if (!body.password) throw required('This link needs a password');
      const valid = await checkLimitedPassword(
        this.deps,
        link.password_hash,
        body.password,
        client,
        `link:${link.id}`,
      );
      if (!valid) throw required('Wrong link password');
    }
    const session = await this.deps.sessions.openLinkSession(
      room,
      link,
      body.with_refresh_token ?? false,
      async (trx) => {
        if (!(await shareLinksRepository.claimUse(trx, link.id, this.now))) {
          const current = await shareLinksRepository.findById(trx, link.id);
          if (current) this.assertLive(current);
          throw linkGone('uses_exhausted', 'This link has been used as many times as it allows');
        }
      },
    );
    this.publish(room, link.id, 'used');
    return { ...session, link: this.access(link) };
  }

  /**
   * Before the bytes of a file go to a share link's session whose link limits downloads: holds
   * one slot as a lease (`410` when the link is used up, `409` while the last slots are held by
   * transfers under way). The lease lasts `room.share_link_download_lease_seconds` and is renewed
   * every third of that while the transfer runs, so the slot of a transfer whose server died is
   * free again one lease period later. HEAD requests and links without a limit take none.
   */
  async beginDownload(auth: RoomAuth, method: string): Promise<DownloadTicket | undefined> {
    const link = auth.link;
    if (!link || link.max_downloads === null) return undefined;
    const { db } = this.deps;
    if (method === 'HEAD') {
      const current = await shareLinksRepository.findById(db, link.id);
      if (current && current.downloads >= link.max_downloads) this.assertLive(current);
      return undefined;
    }
    const leaseMs = this.deps.config.room.share_link_download_lease_seconds * 1000;
    const now = this.now;
    const leaseId = await shareLinksRepository.reserveDownload(db, link.id, now, now + leaseMs);
    if (leaseId === undefined) {
      const current = await shareLinksRepository.findById(db, link.id);
      if (!current || current.downloads >= link.max_downloads) {
        throw linkGone('downloads_exhausted', 'This link was already downloaded as many times as it allows');
      }
      if (current.revoked_at !== null) throw linkGone('revoked', 'This link was revoked');
      throw new AppError('CONFLICT', 'The last downloads this link allows are under way; try again shortly');
    }
    const renewal = setInterval(
      () => {
        shareLinksRepository
          .renewLease(db, leaseId, this.now + leaseMs)
          .catch((error: unknown) =>
            this.deps.logger?.warn({ err: error }, 'share link download lease renewal failed'),
          );
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    let done = false;
    return {
      finish: async (completed) => {
        if (done) return;
        done = true;
        clearInterval(renewal);
        const after = await shareLinksRepository.finishDownload(db, link.id, leaseId, completed);
        if (!completed || !after) return;
        this.publish(auth.room, link.id, 'used');
        if (
          after.burn_after_reading === 1 &&
          after.max_downloads !== null &&
          after.downloads >= after.max_downloads
        ) {
          await this.deps.burn(auth.room, scopeOf(after) ?? []);
        }
      },
    };
  }
}
