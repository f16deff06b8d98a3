import { randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import { redisClient } from '../lib/ioredis.js';

import type { EventBus, EventBusStatus, RoomEvent } from './events.js';
import { RedisPresence } from './presence.js';

export interface RedisEventBusOptions {
  url: string;
  /** Namespaces the channel and presence keys; tests use one per file so they never cross. */
  prefix?: string;
  instanceId?: string;
  /** How long an instance's sockets keep counting after its last heartbeat. */
  heartbeatTtlMs: number;
  logger?: {
    info(obj: object | string, msg?: string): void;
    warn(obj: object | string, msg?: string): void;
  };
}

/** Events published while Redis is away, sent when it is back; beyond this the oldest go. */
const MAX_PENDING = 10_000;
const RETRY_CAP_MS = 2_000;

interface Envelope {
  origin: string;
  event: RoomEvent;
}

/**
 * Events across server instances over Redis pub/sub. Local subscribers get every event at once
 * (in-process, in order), whatever the state of Redis, so an instance keeps serving its own
 * sockets during an outage; the copy for the other instances goes through Redis, and events
 * published while Redis is unreachable wait in a bounded queue and go out when it returns.
 * Messages an instance receives back from its own publishing are ignored (already delivered).
 */
export class RedisEventBus implements EventBus {
  readonly instanceId: string;
  readonly presence: RedisPresence;
  /** The command connection; presence shares it. */
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly handlers = new Set<(event: RoomEvent) => void>();
  private readonly pending: string[] = [];
  private readonly reconnectListeners = new Set<() => void>();
  private lost = false;
  private closed = false;

  constructor(private readonly options: RedisEventBusOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    const prefix = options.prefix ?? 'elizabeth';
    this.channel = `${prefix}:events`;
    const common = {
      retryStrategy: (attempt: number) => Math.min(attempt * 100, RETRY_CAP_MS),
      // Commands fail at once while disconnected: publishing queues on its own, presence falls
      // back to local counts, nothing waits on a dead connection.
      maxRetriesPerRequest: 1,
    };
    this.commands = new (redisClient())(options.url, { ...common, enableOfflineQueue: false });
    this.subscriber = new (redisClient())(options.url, { ...common, autoResubscribe: true });
    this.presence = new RedisPresence(this.commands, {
      prefix,
      instanceId: this.instanceId,
      heartbeatTtlMs: options.heartbeatTtlMs,
    });

    for (const connection of [this.commands, this.subscriber]) {
      connection.on('error', () => {
        // Reported once per outage by the close listener; ioredis retries on its own.
      });
      connection.on('close', () => this.markLost());
      connection.on('ready', () => this.markReady());
    }
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    this.subscriber.subscribe(this.channel).catch((error: unknown) => {
      if (!this.closed) options.logger?.warn({ err: error }, 'Redis subscribe failed; retrying on reconnect');
    });
  }

  status(): EventBusStatus {
    return {
      kind: 'redis',
      connected: this.commands.status === 'ready' && this.subscriber.status === 'ready',
    };
  }

  /** Called after Redis came back, so the gateway can re-assert its presence counts. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  publish(event: RoomEvent): void {
    this.deliver(event);
    const message = JSON.stringify({ origin: this.instanceId, event } satisfies Envelope);
    if (this.commands.status === 'ready' && this.pending.length === 0) this.send(message);
    else this.enqueue(message);
  }

  subscribe(handler: (event: RoomEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Sends what is queued (waiting briefly for a first connection), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0 && this.commands.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        this.commands.once('ready', () => {
          clearTimeout(timer);
          // markReady runs first (registered earlier) and flushes.
          setImmediate(resolve);
        });
      });
    }
    this.closed = true;
    // QUIT lets sent commands finish; on a connection that is down it would wait for a reconnect.
    const end = async (connection: Redis) => {
      if (connection.status === 'ready') await connection.quit().catch(() => undefined);
      connection.disconnect();
    };
    await Promise.all([end(this.commands), end(this.subscriber)]);
  }

  private deliver(event: RoomEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch {
        // One failing subscriber must not stop delivery to the others; each logs its own errors.
      }
    }
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin === this.instanceId || typeof envelope.event?.type !== 'string') return;
    this.deliver(envelope.event);
  }

  private send(message: string): void {
    this.commands.publish(this.channel, message).catch(() => {
      // The connection dropped between the check and the write: keep it for the reconnect.
      this.enqueue(message);
    });
  }

  private enqueue(message: string): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.options.logger?.warn('Redis unreachable for long: dropping the oldest queued realtime event');
    }
    this.pending.push(message);
  }

  private markLost(): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    this.options.logger?.warn(
      'Redis connection lost: realtime events reach this instance only until it is back',
    );
  }

  private markReady(): void {
    if (this.commands.status === 'ready') {
      for (const message of this.pending.splice(0)) this.send(message);
    }
    if (!this.lost || this.closed || this.status().connected === false) return;
    this.lost = false;
    this.options.logger?.info('Redis connection restored: realtime events cross instances again');
    for (const listener of this.reconnectListeners) listener();
  }
}
