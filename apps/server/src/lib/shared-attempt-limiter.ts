import { randomUUID } from 'node:crypto';

import {
  AttemptLimiter,
  type AttemptLimits,
  type AttemptRule,
  type AttemptTicket,
  tooManyAttempts,
} from './attempt-limiter.js';
import type { Clock } from './clock.js';
import type { RedisLink } from './redis-link.js';

/**
 * KEYS: the attempt sets (sorted by time), then the lock hashes, one each per rule.
 * ARGV: now, window, attempt id, then each rule's max. Returns 0 (charged) or the retry delay.
 */
const RESERVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = #KEYS / 2
local retry = 0
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    retry = math.max(retry, tonumber(oldest[2]) + window - now)
  end
  local locked = tonumber(redis.call('HGET', KEYS[n + i], 'until') or '0')
  if locked > now then retry = math.max(retry, locked - now) end
end
if retry > 0 then return retry end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[i], window)
end
return 0
`;

/**
 * KEYS: the attempt set and the lock hash of a back-off rule. ARGV: now, window, max, backoff
 * max. Starts the next lock-out when the allowance is full and no lock-out is running.
 */
const ESCALATE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local backoffMax = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then return 0 end
local locked = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
if locked > now then return 0 end
local strikes = tonumber(redis.call('HGET', KEYS[2], 'strikes') or '0')
if now - locked >= backoffMax then strikes = 0 end
strikes = strikes + 1
local duration = math.min(window * 2 ^ math.min(strikes - 1, 30), math.max(backoffMax, window))
redis.call('HSET', KEYS[2], 'until', now + duration, 'strikes', strikes)
redis.call('PEXPIRE', KEYS[2], math.floor(duration + backoffMax))
return 1
`;

/**
 * The wrong-password limit of several instances: the attempt counts and lock-outs live in
 * Redis and every charge is one atomic script, so a burst spread over all instances still
 * runs at most the allowance of verifications. While Redis is unreachable each instance falls
 * back to its own in-memory counts (`AttemptLimiter`): the limit then holds per instance.
 */
export class SharedAttemptLimiter extends AttemptLimiter {
  private readonly prefix: string;

  constructor(
    clock: Clock,
    limits: AttemptLimits,
    private readonly link: RedisLink,
    prefix = 'elizabeth',
  ) {
    super(clock, limits);
    this.prefix = `${prefix}:password-attempts`;
  }

  override async reserve(rules: AttemptRule[]): Promise<AttemptTicket> {
    const sets = rules.map((r) => `${this.prefix}:${r.key}`);
    const locks = rules.map((r) => `${this.prefix}:lock:${r.key}`);
    const id = randomUUID();
    const now = this.clock.now();
    let retry: number;
    try {
      retry = Number(
        await this.link.commands.eval(
          RESERVE,
          sets.length * 2,
          ...sets,
          ...locks,
          now,
          this.limits.windowMs,
          id,
          ...rules.map((r) => r.max),
        ),
      );
    } catch {
      return this.reserveLocally(rules);
    }
    if (retry > 0) throw tooManyAttempts(retry);
    return {
      refund: async () => {
        await Promise.all(sets.map((set) => this.link.commands.zrem(set, id))).catch(() => undefined);
      },
      fail: async () => {
        const escalations = rules.flatMap((rule, i) =>
          rule.backoff
            ? [
                this.link.commands.eval(
                  ESCALATE,
                  2,
                  sets[i]!,
                  locks[i]!,
                  this.clock.now(),
                  this.limits.windowMs,
                  rule.max,
                  this.limits.backoffMaxMs,
                ),
              ]
            : [],
        );
        await Promise.all(escalations).catch(() => undefined);
      },
    };
  }
}
