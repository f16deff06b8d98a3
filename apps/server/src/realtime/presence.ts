import type { Redis } from 'ioredis';

/** The count of open sockets of a room across instances, with the store's ordering version. */
export interface PresenceCount {
  online: number;
  version: number;
}

/**
 * Where each instance records how many sockets it holds per room, so every instance can tell
 * the room's total. Counts are absolute per instance (not increments), so re-sending them after
 * a reconnect or a crash can never drift.
 */
export interface Presence {
  /** Records this instance's count for the room and answers the total. */
  update(roomId: number, localCount: number): Promise<PresenceCount>;
  /** Totals for many rooms (admin listing); rooms without sockets are absent. */
  onlineMany(roomIds: number[]): Promise<Map<number, number>>;
  /** Re-asserts every local count and that this instance is alive; called periodically. */
  heartbeat(localCounts: Map<number, number>): Promise<void>;
}

/** One instance: the local count is the total. */
export class MemoryPresence implements Presence {
  private readonly versions = new Map<number, number>();
  private readonly counts = new Map<number, number>();

  update(roomId: number, localCount: number): Promise<PresenceCount> {
    const version = (this.versions.get(roomId) ?? 0) + 1;
    if (localCount > 0) {
      this.versions.set(roomId, version);
      this.counts.set(roomId, localCount);
    } else {
      this.versions.delete(roomId);
      this.counts.delete(roomId);
    }
    return Promise.resolve({ online: localCount, version });
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
 * Sets this instance's count in the room hash (or removes it at 0), then sums the counts of
 * instances whose heartbeat key still exists, dropping the fields of instances that stopped
 * beating (crashed), and bumps the room's version. One script, so the answers are ordered.
 * KEYS: room hash, room version key, this instance's heartbeat key.
 * ARGV: instance id, count, heartbeat prefix, heartbeat TTL ms.
 */
const UPDATE_SCRIPT = `
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
local version = redis.call('INCR', KEYS[2])
if total == 0 then redis.call('DEL', KEYS[2]) end
return {total, version}
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

  async update(roomId: number, localCount: number): Promise<PresenceCount> {
    const result = (await this.redis.eval(
      UPDATE_SCRIPT,
      3,
      this.roomKey(roomId),
      `${this.roomKey(roomId)}:version`,
      this.heartbeatPrefix + this.options.instanceId,
      this.options.instanceId,
      String(localCount),
      this.heartbeatPrefix,
      String(this.options.heartbeatTtlMs),
    )) as [number, number];
    return { online: Number(result[0]), version: Number(result[1]) };
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

  async heartbeat(localCounts: Map<number, number>): Promise<void> {
    const pipeline = this.redis.pipeline();
    pipeline.set(this.heartbeatPrefix + this.options.instanceId, '1', 'PX', this.options.heartbeatTtlMs);
    // A restarted Redis lost the hashes; writing the counts again restores them.
    for (const [roomId, count] of localCounts) {
      if (count > 0) pipeline.hset(this.roomKey(roomId), this.options.instanceId, String(count));
    }
    const answers = (await pipeline.exec()) ?? [];
    const failed = answers.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }
}
