import type { AppConfig } from '../config/types.js';
import type { EventBus, EventBusStatus } from './events.js';
import { MemoryEventBus } from './memory-event-bus.js';
import { MemoryPresence, type Presence } from './presence.js';
import { RedisEventBus } from './redis-event-bus.js';

export interface RealtimeBackplane {
  events: EventBus;
  presence: Presence;
  status(): EventBusStatus;
  /** Reports that the bus reconnected (Redis came back). */
  onReconnect(listener: () => void): void;
  /** Closes what this factory opened; a bus handed in stays open. */
  close(): Promise<void>;
}

export interface BackplaneOptions {
  /** A bus built by the caller (tests, the CLI); otherwise one is chosen from the config. */
  events?: EventBus;
  /** Namespaces Redis channels and keys. */
  prefix?: string;
  logger?: RedisLogger;
}

type RedisLogger = ConstructorParameters<typeof RedisEventBus>[0]['logger'];

/** In-process by default; Redis pub/sub plus Redis presence when `realtime.redis_url` is set. */
export function createBackplane(
  config: AppConfig['realtime'],
  options: BackplaneOptions = {},
): RealtimeBackplane {
  const given = options.events;
  if (given instanceof RedisEventBus) return redisBackplane(given, false);
  if (given) {
    return {
      events: given,
      presence: new MemoryPresence(),
      status: () => given.status?.() ?? { kind: 'memory', connected: true },
      onReconnect: () => undefined,
      close: () => Promise.resolve(),
    };
  }
  if (config.redis_url) {
    return redisBackplane(createRedisEventBus(config, options), true);
  }
  const events = new MemoryEventBus();
  return {
    events,
    presence: new MemoryPresence(),
    status: () => ({ kind: 'memory', connected: true }),
    onReconnect: () => undefined,
    close: () => Promise.resolve(),
  };
}

/** The Redis bus for this configuration; heartbeats live for three ping intervals. */
export function createRedisEventBus(
  config: AppConfig['realtime'],
  options: { prefix?: string; logger?: RedisLogger } = {},
): RedisEventBus {
  return new RedisEventBus({
    url: config.redis_url,
    heartbeatTtlMs: config.ping_interval_seconds * 3000,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

function redisBackplane(bus: RedisEventBus, owned: boolean): RealtimeBackplane {
  return {
    events: bus,
    presence: bus.presence,
    status: () => bus.status(),
    onReconnect: (listener) => {
      bus.onReconnect(listener);
    },
    close: () => (owned ? bus.close() : Promise.resolve()),
  };
}
