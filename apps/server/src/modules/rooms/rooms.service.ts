import { randomBytes } from 'node:crypto';

import {
  type CreateRoomBody,
  Permission,
  type RoomView,
  type UpdatePermissionsBody,
  type UpdateSettingsBody,
} from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { AppConfig } from '../../config/types.js';
import { type DB, isCheckViolation } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, roomReasonError, validationError } from '../../lib/errors.js';
import type { PasswordHasher } from '../../lib/password.js';
import type { EventBus } from '../../realtime/events.js';
import type { BlobReaper } from '../../storage/blob-reaper.js';
import { assertRoomOpen, type RoomAuth } from '../sessions/session-auth.js';
import { sessionsRepository } from '../sessions/sessions.repository.js';
import { parseNewRoomName, parseRoomAddress } from './room-name.js';
import { toRoomView } from './rooms.presenter.js';
import { requireManage } from './rooms.policy.js';
import { type RoomPatch, type RoomRow, roomsRepository } from './rooms.repository.js';

export interface RoomsDeps {
  db: Kysely<DB>;
  config: AppConfig;
  clock: Clock;
  events: EventBus;
  blobs: BlobReaper;
  passwords: PasswordHasher;
}

const PASSWORD_MIN = 4;
const PASSWORD_MAX = 100;

function checkPassword(password: string, path: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw validationError(`Room passwords have ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, [
      { path, message: `must have ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` },
    ]);
  }
}

/** A private address: the name plus a random suffix nobody can guess. */
const privateSlug = (name: string) =>
  `${name}_${randomBytes(9)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;

export class RoomsService {
  constructor(private readonly deps: RoomsDeps) {}

  private get now(): number {
    return this.deps.clock.now();
  }

  private defaultPermission(): number {
    const p = this.deps.config.room.defaults.permissions;
    return (
      (p.read ? Permission.VIEW : 0) |
      (p.edit ? Permission.EDIT : 0) |
      (p.share ? Permission.SHARE : 0) |
      (p.delete ? Permission.DELETE : 0)
    );
  }

  private checkAge(age: number): void {
    if (!this.deps.config.room.expiry.allowed_ages.includes(age)) {
      throw validationError('age_seconds must be one of the allowed expiry ages (GET /api/v1/config)', [
        {
          path: 'body.age_seconds',
          message: `allowed: ${this.deps.config.room.expiry.allowed_ages.join(', ')}`,
        },
      ]);
    }
  }

  private checkCaps(body: { max_size?: number | undefined; max_times_entered?: number | undefined }): void {
    const caps = this.deps.config.room.limits;
    if (body.max_size !== undefined && body.max_size > caps.max_size) {
      throw validationError(`max_size may not exceed ${caps.max_size} bytes`, [
        { path: 'body.max_size', message: 'over the deployment cap' },
      ]);
    }
    if (body.max_times_entered !== undefined && body.max_times_entered > caps.max_times_entered) {
      throw validationError(`max_times_entered may not exceed ${caps.max_times_entered}`, [
        { path: 'body.max_times_entered', message: 'over the deployment cap' },
      ]);
    }
  }

  /** The new room's row; `beforeHash` runs after the cheap checks, before Argon2 hashes a password. */
  private async newRoom(name: string, body: CreateRoomBody, beforeHash?: () => Promise<void>) {
    const { defaults, expiry } = this.deps.config.room;
    const age = body.age_seconds ?? expiry.default_age;
    this.checkAge(age);
    this.checkCaps(body);
    let password: string | null;
    if (body.password === undefined) password = defaults.password;
    else if (body.password === null || body.password.trim() === '') password = null;
    else {
      checkPassword(body.password, 'body.password');
      password = body.password;
    }
    await beforeHash?.();
    const now = this.now;
    return {
      name,
      slug: name,
      password_hash: password === null ? null : await this.deps.passwords.hash(password),
      status: 0 as const,
      permission: this.defaultPermission(),
      max_size: body.max_size ?? defaults.max_size,
      current_size: 0,
      max_times_entered: body.max_times_entered ?? defaults.max_times_entered,
      current_times_entered: 0,
      expire_at: now + age * 1000,
      share_disabled_at: null,
      created_at: now,
      updated_at: now,
    };
  }

  /**
   * GET semantics: the room must be enterable by a new visitor, unless the caller holds a live
   * session of it (`held`): a held session always gets back in, the limit only blocks new entries.
   */
  private present(room: RoomRow, held: boolean): RoomView {
    assertRoomOpen(room, this.now);
    if (!held && room.current_times_entered >= room.max_times_entered) {
      throw roomReasonError('ROOM_NOT_ENTERABLE', 'The room has reached its entry limit', 'entry_limit');
    }
    return toRoomView(room);
  }

  private async resolve(address: string, held: boolean): Promise<RoomView | undefined> {
    // One query, so a room created concurrently is seen whole (by its slug), never half.
    const room = await roomsRepository.findBySlugOrName(this.deps.db, address);
    if (!room) return undefined;
    if (room.slug === address) return this.present(room, held);
    if (room.expire_at <= this.now) throw new AppError('ROOM_EXPIRED', `Room ${address} has expired`);
    throw roomReasonError('ROOM_NOT_ENTERABLE', 'This room has moved to a private address', 'moved');
  }

  /**
   * `GET /rooms/{name}`: the room, created with the defaults on the first visit. With
   * `create: false` a missing room is `ROOM_NOT_FOUND` (naming a room whose address differs only
   * in case) and a recently purged one `ROOM_EXPIRED`. `held`: the caller presented a live
   * session of this address. `beforeCreate` runs before a new room is inserted (creation limit).
   */
  async getOrCreate(
    rawName: string,
    options: { create?: boolean; held?: boolean; beforeCreate?: () => void } = {},
  ): Promise<RoomView> {
    const held = options.held ?? false;
    const address = parseRoomAddress(rawName);
    const existing = await this.resolve(address, held);
    if (existing) return existing;
    if (options.create === false) return this.missing(address);
    const name = parseNewRoomName(address);
    options.beforeCreate?.();
    const inserted = await roomsRepository.insertIfAbsent(this.deps.db, await this.newRoom(name, {}));
    if (inserted) return toRoomView(inserted);
    // Another request created it first: answer with what it created.
    const raced = await this.resolve(address, held);
    if (!raced) throw new AppError('INTERNAL_ERROR', 'Room creation could not be resolved');
    return raced;
  }

  private async missing(address: string): Promise<never> {
    const expiredAt = await roomsRepository.findTombstone(this.deps.db, address, this.now);
    if (expiredAt !== undefined) {
      throw roomReasonError('ROOM_EXPIRED', `Room ${address} has expired`, 'purged');
    }
    const similar = await roomsRepository.findByAddressIgnoringCase(this.deps.db, address);
    throw new AppError(
      'ROOM_NOT_FOUND',
      `Room ${address} does not exist`,
      similar && similar.slug === similar.name
        ? { details: [{ path: 'similar', message: similar.slug }] }
        : {},
    );
  }

  /** `POST /rooms/{name}`: explicit creation with options; 409 if the name is taken. */
  async create(rawName: string, body: CreateRoomBody): Promise<RoomView> {
    const name = parseNewRoomName(rawName);
    // The name is checked before the password is hashed: a taken name costs no Argon2 work.
    const room = await this.newRoom(name, body, async () => {
      if (await roomsRepository.isNameTaken(this.deps.db, name))
        throw new AppError('CONFLICT', `Room ${name} already exists`);
    });
    const inserted = await roomsRepository.insertIfAbsent(this.deps.db, room);
    if (!inserted) throw new AppError('CONFLICT', `Room ${name} already exists`);
    return toRoomView(inserted);
  }

  /** `DELETE /rooms/{name}`: the room, its contents, uploads and sessions. */
  async delete(auth: RoomAuth): Promise<void> {
    requireManage(auth);
    const deleted = await this.deps.db
      .transaction()
      .execute((trx) => roomsRepository.deleteWithBlobs(trx, auth.room.id, this.now));
    if (!deleted) throw new AppError('ROOM_NOT_FOUND', `Room ${auth.room.slug} does not exist`);
    this.deps.events.publish({
      type: 'room_deleted',
      room_id: auth.room.id,
      slug: auth.room.slug,
      reason: 'room_deleted',
    });
  }

  /** `POST /rooms/{name}/permissions`: VIEW is always kept; clearing SHARE makes the address private. */
  async updatePermissions(auth: RoomAuth, body: UpdatePermissionsBody): Promise<RoomView> {
    requireManage(auth);
    const { room } = auth;
    const permission =
      Permission.VIEW |
      (body.edit ? Permission.EDIT : 0) |
      (body.share ? Permission.SHARE : 0) |
      (body.delete ? Permission.DELETE : 0);
    const patch: RoomPatch = { permission, updated_at: this.now };
    if (!body.share && room.slug === room.name) {
      patch.slug = privateSlug(room.name);
      patch.share_disabled_at = this.now;
    } else if (body.share && room.slug !== room.name) {
      patch.slug = room.name;
      patch.share_disabled_at = null;
    }
    const goesPrivate = patch.share_disabled_at !== undefined && patch.share_disabled_at !== null;
    const updated = await this.deps.db.transaction().execute(async (trx) => {
      const current = await roomsRepository.update(trx, room.id, patch);
      if (!current) throw new AppError('ROOM_NOT_FOUND', `Room ${room.slug} does not exist`);
      // Every other session (and its refresh tokens) knew only the public address: none of them
      // may refresh its way to the private one. The caller keeps its own. (Their sockets are
      // closed by the room_updated event with previous_slug: 4102 address_changed.)
      if (goesPrivate)
        await sessionsRepository.revokeRoomSessionsExcept(trx, room.id, auth.claims.jti, this.now);
      return current;
    });
    const moved = updated.slug !== room.slug;
    this.deps.events.publish({
      type: 'room_updated',
      room_id: room.id,
      slug: updated.slug,
      ...(moved ? { previous_slug: room.slug } : {}),
      room: toRoomView(updated),
      reason: moved ? 'address_changed' : 'permissions_changed',
    });
    return toRoomView(updated);
  }

  /** `PUT /rooms/{name}/settings`: password, expiry and limits. */
  async updateSettings(auth: RoomAuth, body: UpdateSettingsBody): Promise<RoomView> {
    requireManage(auth);
    const { room } = auth;
    if (body.password !== undefined && body.remove_password) {
      throw validationError('Send either password or remove_password, not both');
    }
    if (body.password !== undefined) checkPassword(body.password, 'body.password');
    if (body.age_seconds !== undefined) this.checkAge(body.age_seconds);
    this.checkCaps(body);
    if (body.max_times_entered !== undefined && body.max_times_entered < room.current_times_entered) {
      throw validationError(
        `max_times_entered cannot be lower than the ${room.current_times_entered} entries already made`,
        [{ path: 'body.max_times_entered', message: 'below current usage' }],
      );
    }
    if (body.max_size !== undefined && body.max_size < room.current_size) {
      throw validationError(`max_size cannot be lower than the ${room.current_size} bytes already used`, [
        { path: 'body.max_size', message: 'below current usage' },
      ]);
    }

    const now = this.now;
    const patch: RoomPatch = { updated_at: now };
    if (body.age_seconds !== undefined) patch.expire_at = now + body.age_seconds * 1000;
    if (body.max_times_entered !== undefined) patch.max_times_entered = body.max_times_entered;
    if (body.max_size !== undefined) patch.max_size = body.max_size;
    const passwordChanged =
      body.password !== undefined || (body.remove_password === true && room.password_hash !== null);
    if (body.password !== undefined) patch.password_hash = await this.deps.passwords.hash(body.password);
    else if (body.remove_password) patch.password_hash = null;

    const updated = await this.deps.db.transaction().execute(async (trx) => {
      // The conditions keep a concurrent upload or entry from slipping under the new limits;
      // an entry or upload that landed since the checks above trips the table's CHECK instead.
      const current = await roomsRepository.update(trx, room.id, patch).catch((error: unknown) => {
        if (isCheckViolation(error))
          throw validationError('The new limits are below what the room already uses');
        throw error;
      });
      if (!current) throw new AppError('ROOM_NOT_FOUND', `Room ${room.slug} does not exist`);
      if (
        current.current_size > current.max_size ||
        current.current_times_entered > current.max_times_entered
      ) {
        throw validationError('The new limits are below what the room already uses');
      }
      if (passwordChanged)
        await sessionsRepository.revokeRoomSessionsExcept(trx, room.id, auth.claims.jti, now);
      return current;
    });

    this.deps.events.publish({
      type: 'room_updated',
      room_id: room.id,
      slug: updated.slug,
      room: toRoomView(updated),
      reason: 'settings_changed',
    });
    if (passwordChanged) {
      this.deps.events.publish({
        type: 'sessions_revoked',
        room_id: room.id,
        slug: updated.slug,
        except: auth.claims.jti,
        reason: 'password_changed',
      });
    }
    return toRoomView(updated);
  }
}
