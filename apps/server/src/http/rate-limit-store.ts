import type { RateLimitPluginOptions } from '@fastify/rate-limit';

import type { AppConfig } from '../config/types.js';
import type { RedisLink } from '../lib/redis-link.js';

/**
 * The Redis that holds state shared by the instances (rate-limit counters, password failures,
 * tus upload locks): `middleware.rate_limit.redis_url` for the limits when set, else
 * `realtime.redis_url`; empty = each process on its own.
 */
export function sharedStateUrls(config: AppConfig): { limits: string; locks: string } {
  const realtime = config.realtime.redis_url.trim();
  return { limits: config.middleware.rate_limit.redis_url.trim() || realtime, locks: realtime };
}

/**
 * @fastify/rate-limit options that keep the counters in Redis (one fixed window per client
 * address, via the plugin's own Lua script), so the limit holds across instances. While Redis
 * is unreachable the limit is not enforced (`skipOnError`): availability wins over a limit
 * that is a courtesy, not a security boundary (wrong passwords have their own limiter).
 */
export function redisRateLimitOptions(
  link: RedisLink,
  prefix = 'elizabeth',
): Pick<RateLimitPluginOptions, 'redis' | 'nameSpace' | 'skipOnError'> {
  return { redis: link.commands, nameSpace: `${prefix}:rate-limit:`, skipOnError: true };
}
