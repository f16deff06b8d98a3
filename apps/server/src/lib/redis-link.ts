import type { Redis } from 'ioredis';

import { redisClient } from './ioredis.js';

export interface RedisLinkLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

const RETRY_CAP_MS = 2_000;

/**
 * One command connection and one subscriber connection to Redis, shared by the state that
 * several server instances keep together besides realtime events: the HTTP rate limit, the
 * password-attempt counts and the tus upload locks. Commands fail at once while Redis is not
 * connected (also in the few milliseconds before the first connection), so no request ever
 * waits on a dead connection; callers decide what an unreachable Redis means for them.
 */
export class RedisLink {
  readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private closed = false;
  private lost = false;

  constructor(
    readonly url: string,
    private readonly logger?: RedisLinkLogger,
  ) {
    const common = {
      retryStrategy: (attempt: number) => Math.min(attempt * 100, RETRY_CAP_MS),
      maxRetriesPerRequest: 1,
    };
    this.commands = new (redisClient())(url, { ...common, enableOfflineQueue: false });
    this.subscriber = new (redisClient())(url, { ...common, autoResubscribe: true });
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('error', () => {
        // Reported once per outage below; ioredis reconnects on its own.
      });
      connection.on('close', () => {
        if (this.closed || this.lost) return;
        this.lost = true;
        this.logger?.warn('Redis (shared limits and upload locks) unreachable; retrying');
      });
      connection.on('ready', () => {
        if (!this.lost || !this.connected()) return;
        this.lost = false;
        this.logger?.info('Redis (shared limits and upload locks) reachable again');
      });
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch {
          // One handler's failure must not stop the others.
        }
      }
    });
  }

  connected(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  /** Resolves once both connections are up (or after `timeoutMs`, whichever comes first). */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connected() && Date.now() < deadline && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.connected();
  }

  /** Calls `handler` with every message on `channel` (this instance's own included). */
  subscribe(channel: string, handler: (message: string) => void): void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      this.subscriber.subscribe(channel).catch((error: unknown) => {
        if (!this.closed) this.logger?.warn({ err: error }, 'Redis subscribe failed; retrying on reconnect');
      });
    }
    set.add(handler);
  }

  /** Publishes, never throwing: a message lost during an outage is the caller's documented risk. */
  async publish(channel: string, message: string): Promise<void> {
    await this.commands.publish(channel, message).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const end = async (connection: Redis) => {
      if (connection.status === 'ready') await connection.quit().catch(() => undefined);
      connection.disconnect();
    };
    await Promise.all([end(this.commands), end(this.subscriber)]);
  }
}
