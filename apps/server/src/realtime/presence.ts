import { WS_MEMBERS_MAX, type WsMember } from '@elizabeth/protocol';
import type { Redis } from 'ioredis';

/** The count of open sockets of a room across instances, with the store's ordering version. */
export interface PresenceCount {
  online: number;
  version: number;
  /** Who holds those sockets (one entry per author id), sorted, at most `WS_MEMBERS_MAX`. */
  members: WsMember[];
}

/** One list from the instances' lists: an author once, sorted by name (unnamed last), capped. */
export function mergeMembers(lists: Iterable<WsMember[]>): WsMember[] {
  const byAuthor = new Map<string, WsMember>();
  for (const list of lists) for (const member of list) byAuthor.set(member.author_id, member);
  return [...byAuthor.values()]
    .sort((a, b) =>
      a.display_name === b.display_name
        ? a.author_id.localeCompare(b.author_id)
        : a.display_name === null
          ? 1
          : b.display_name === null
            ? -1
            : a.display_name.localeCompare(b.display_name),
    )
    .slice(0, WS_MEMBERS_MAX);
}

function parseMembers(json: unknown): WsMember[] {
  if (typeof json !== 'string') return [];
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? (value as WsMember[]) : [];
  } catch {
    return [];
  }
}

/**
 * Where each instance records how many sockets it holds per room, so every instance can tell
 * the room's total. Counts are absolute per instance (not increments), so re-sending them after
 * a reconnect or a crash can never drift.
 */
export interface Presence {
  /** Records this instance's count and members for the room and answers the totals. */
  update(roomId: number, localCount: number, localMembers: WsMember[]): Promise<PresenceCount>;
  /** Totals for many rooms (admin listing); rooms without sockets are absent. */
  onlineMany(roomIds: number[]): Promise<Map<number, number>>;
  /** Re-asserts every local count (and members) and that this instance is alive; called periodically. */
  heartbeat(localCounts: Map<number, number>, localMembers?: Map<number, WsMember[]>): Promise<void>;
}

/** One instance: the local count is the total. */
export class MemoryPresence implements Presence {
  private readonly versions = new Map<number, number>();
  private readonly counts = new Map<number, number>();

  update(roomId: number, localCount: number, localMembers: WsMember[]): Promise<PresenceCount> {
    const version = (this.versions.get(roomId) ?? 0) + 1;
    if (localCount > 0) {
      this.versions.set(roomId, version);
      this.counts.set(roomId, localCount);
    } else {
      this.versions.delete(roomId);
      this.counts.delete(roomId);
    }
    return Promise.resolve({ online: localCount, version, members: mergeMembers([localMembers]) });
  }

  onlineMany(roomIds: number[]): Promise<Map<number, number>> {
    const result = new Map<number, number>();
    for (const id of roomIds) {
      const count = this.counts.get(id);
      if (count) result.set(id, count);
    }
    return Promise.resolve(result);
  }

  heartbeat(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Sets this instance's count in the room hash and its members (JSON) in the room's members hash
 * (or removes both at 0), then sums the counts of instances whose heartbeat key still exists,
 * dropping the fields of instances that stopped beating (crashed), collects the live instances'
 * member lists, and bumps the room's version. One script, so the answers are ordered.
 * KEYS: room hash, room version key, this instance's heartbeat key, room members hash.
 * ARGV: instance id, count, heartbeat prefix, heartbeat TTL ms, members JSON.
 */
const UPDATE_SCRIPT = `
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
local members = {}
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
    members[#members + 1] = redis.call('HGET', KEYS[4], fields[i]) or '[]'
  else
    redis.call('HDEL', KEYS[1], fields[i])
    redis.call('HDEL', KEYS[4], fields[i])
  end
end
local version = redis.call('INCR', KEYS[2])
if total == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('DEL', KEYS[4])
end
return {total, version, unpack(members)}
`;

/** KEYS: room hash. ARGV: heartbeat prefix. Returns the live total without changing anything. */
const TOTAL_SCRIPT = `
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[1] .. fields[i]) == 1 then total = total + tonumber(fields[i + 1]) end
end
return total
`;

/**
 * Counts in Redis: a hash per room (`<prefix>:presence:<room>` → instance id → count) and a
 * heartbeat key per instance that expires unless renewed, so a crashed instance's sockets stop
 * counting after the heartbeat TTL. Uses the run-once scripting of the standalone server
 * (the keys of other instances are not declared, so this does not target Redis Cluster).
 */
export class RedisPresence implements Presence {
  private readonly heartbeatPrefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; instanceId: string; heartbeatTtlMs: number },
  ) {
    this.heartbeatPrefix = `${options.prefix}:instance:`;
  }

  private roomKey(roomId: number): string {
    return `${this.options.prefix}:presence:${roomId}`;
  }

  async update(roomId: number, localCount: number, localMembers: WsMember[]): Promise<PresenceCount> {
    const result = (await this.redis.eval(
      UPDATE_SCRIPT,
      4,
      this.roomKey(roomId),
      `${this.roomKey(roomId)}:version`,
      this.heartbeatPrefix + this.options.instanceId,
      `${this.roomKey(roomId)}:members`,
      this.options.instanceId,
      String(localCount),
      this.heartbeatPrefix,
      String(this.options.heartbeatTtlMs),
      JSON.stringify(localMembers),
    )) as [number, number, ...string[]];
    const [online, version, ...lists] = result;
    return {
      online: Number(online),
      version: Number(version),
      members: mergeMembers(lists.map(parseMembers)),
    };
  }

  async onlineMany(roomIds: number[]): Promise<Map<number, number>> {
    const result = new Map<number, number>();
    if (roomIds.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const id of roomIds) pipeline.eval(TOTAL_SCRIPT, 1, this.roomKey(id), this.heartbeatPrefix);
    const answers = (await pipeline.exec()) ?? [];
    answers.forEach(([error, value], index) => {
      const id = roomIds[index];
      if (!error && id !== undefined && Number(value) > 0) result.set(id, Number(value));
    });
    return result;
  }

  async heartbeat(localCounts: Map<number, number>, localMembers?: Map<number, WsMember[]>): Promise<void> {
    const pipeline = this.redis.pipeline();
    pipeline.set(this.heartbeatPrefix + this.options.instanceId, '1', 'PX', this.options.heartbeatTtlMs);
    // A restarted Redis lost the hashes; writing the counts again restores them.
    for (const [roomId, count] of localCounts) {
      if (count <= 0) continue;
      pipeline.hset(this.roomKey(roomId), this.options.instanceId, String(count));
      const members = localMembers?.get(roomId);
      if (members)
        pipeline.hset(`${this.roomKey(roomId)}:members`, this.options.instanceId, JSON.stringify(members));
    }
    const answers = (await pipeline.exec()) ?? [];
    const failed = answers.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }
}
