import { randomBytes } from 'node:crypto';

import type { Lock, Locker, RequestRelease } from '@tus/server';

import type { RedisLink } from '../../lib/redis-link.js';

export interface RedisLockerOptions {
  /** Namespaces the lock keys and the release channel. */
  prefix?: string;
  /** How long `lock()` waits for a held upload before tus answers with an error. */
  acquireTimeoutMs?: number;
  /**
   * Lifetime of a lock key without renewal: the holder renews it every third of this, so a
   * crashed instance's locks free themselves after at most this long.
   */
  leaseMs?: number;
  logger?: { warn(obj: object | string, msg?: string): void };
}

/** How long a waiting `lock()` sleeps between tries when no "released" message wakes it. */
const POLL_MS = 100;
/** A waiter asks the holder to let go again this often (a message may be lost). */
const ASK_AGAIN_MS = 1_000;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

interface Held {
  token: string;
  release: RequestRelease;
  asked: boolean;
  renewal: NodeJS.Timeout;
}

/** An error that @tus/server answers with this status and body. */
const tusError = (status_code: number, body: string) => Object.assign(new Error(body), { status_code, body });

/**
 * A tus `Locker` whose locks hold across server instances: one Redis key per upload (`SET NX`
 * with a lease that the holder renews), and a pub/sub channel on which a request that wants a
 * held upload asks the holder — on whichever instance — to stop (tus's `requestRelease`: a
 * client that sends a new request has given up the old one). @tus/server's default
 * `MemoryLocker` only sees its own process, so without this two instances could write the same
 * upload at once.
 *
 * Redis unreachable: acquiring fails with 503 (the client retries); a lock already held stays
 * valid until its lease runs out — renewal failing then asks the local request to stop, so a
 * write never continues unprotected.
 */
export class RedisLocker implements Locker {
  readonly acquireTimeoutMs: number;
  readonly leaseMs: number;
  private readonly prefix: string;
  private readonly channel: string;
  /** Locks held by requests of this instance, by upload id. */
  private readonly held = new Map<string, Held>();
  /** Local waiters to wake when an upload is released, by upload id. */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisLockerOptions = {},
  ) {
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.prefix = `${options.prefix ?? 'elizabeth'}:tus-lock:`;
    this.channel = `${options.prefix ?? 'elizabeth'}:tus-lock`;
    link.subscribe(this.channel, (message) => this.receive(message));
  }

  newLock(id: string): Lock {
    return {
      lock: (signal, requestRelease) => this.acquire(id, signal, requestRelease),
      unlock: () => this.release(id),
    };
  }

  /** Upload ids locked by this instance right now (tests, diagnostics). */
  heldIds(): string[] {
    return [...this.held.keys()];
  }

  private async acquire(id: string, signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const key = this.prefix + id;
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.acquireTimeoutMs;
    let askedAt = 0;
    for (;;) {
      if (signal.aborted) throw tusError(500, 'failed to acquire lock before timeout');
      let acquired: string | null;
      try {
        // A lock this instance holds for the same upload is still in Redis: SET NX refuses it too.
        acquired = await this.link.commands.set(key, token, 'PX', this.leaseMs, 'NX');
      } catch {
        throw tusError(503, 'Upload locking is unavailable (Redis unreachable); retry shortly');
      }
      if (acquired === 'OK') {
        if (signal.aborted) {
          await this.link.commands.eval(RELEASE, 1, key, token).catch(() => undefined);
          throw tusError(500, 'failed to acquire lock before timeout');
        }
        this.hold(id, key, token, requestRelease);
        return;
      }
      if (Date.now() >= deadline) throw tusError(500, 'failed to acquire lock before timeout');
      if (Date.now() - askedAt >= ASK_AGAIN_MS) {
        askedAt = Date.now();
        // The holder may be here: ask it directly (works while Redis pub/sub is slow), and
        // through Redis for the other instances.
        this.askToRelease(id);
        await this.link.publish(this.channel, JSON.stringify({ type: 'release', id }));
      }
      await this.wait(id, Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signal);
    }
  }

  private hold(id: string, key: string, token: string, release: RequestRelease): void {
    let renewedAt = Date.now();
    const lost = (why: string) => {
      this.options.logger?.warn({ upload: id }, `tus lock ${why}; stopping the request`);
      this.askToRelease(id);
    };
    const renewal = setInterval(
      () => {
        const attemptAt = Date.now();
        this.link.commands.eval(RENEW, 1, key, token, String(this.leaseMs)).then(
          (kept) => {
            if (kept === 1) renewedAt = attemptAt;
            else lost('lease lost');
          },
          () => {
            // Redis unreachable: the key may expire any moment now; stop before it can.
            if (Date.now() - renewedAt >= this.leaseMs * (2 / 3)) lost('lease could not be renewed');
          },
        );
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    this.held.set(id, { token, release, asked: false, renewal });
  }

  private async release(id: string): Promise<void> {
    const held = this.held.get(id);
    if (!held) throw new Error('Releasing an unlocked lock!');
    clearInterval(held.renewal);
    this.held.delete(id);
    // Redis unreachable: the key expires with its lease.
    await this.link.commands.eval(RELEASE, 1, this.prefix + id, held.token).catch(() => undefined);
    this.wake(id);
    await this.link.publish(this.channel, JSON.stringify({ type: 'released', id }));
  }

  private askToRelease(id: string): void {
    const held = this.held.get(id);
    if (!held || held.asked) return;
    held.asked = true;
    void Promise.resolve()
      .then(() => held.release())
      .catch(() => undefined);
  }

  private receive(message: string): void {
    let parsed: { type?: unknown; id?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.id !== 'string') return;
    if (parsed.type === 'release') this.askToRelease(parsed.id);
    else if (parsed.type === 'released') this.wake(parsed.id);
  }

  private wait(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      set.add(done);
    });
  }

  private wake(id: string): void {
    for (const done of [...(this.waiters.get(id) ?? [])]) done();
  }
}
