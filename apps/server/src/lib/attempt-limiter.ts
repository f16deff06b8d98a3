import type { Clock } from './clock.js';
import { AppError } from './errors.js';

/** One counter an attempt is charged to: a client, or a room. */
export interface AttemptRule {
  key: string;
  /** Attempts allowed within the window. */
  max: number;
  /** Whether filling the allowance locks the key out for an exponentially growing time. */
  backoff: boolean;
}

/**
 * An attempt charged before the password is verified. `refund()` when the password was right
 * (it no longer counts), `fail()` when it was wrong (it stays counted, and may start a
 * back-off). Dropping a ticket leaves the attempt counted.
 */
export interface AttemptTicket {
  refund(): Promise<void>;
  fail(): Promise<void>;
}

export interface AttemptLimits {
  windowMs: number;
  /** Longest lock-out of the back-off, and how long a client's lock-outs are remembered. */
  backoffMaxMs: number;
}

export const tooManyAttempts = (retryAfterMs: number) => {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('RATE_LIMITED', `Too many wrong passwords; retry in ${seconds} s`, {
    headers: { 'Retry-After': String(seconds) },
  });
};

/**
 * How long the `strikes`-th lock-out in a row lasts: the window, doubled for each earlier
 * lock-out still remembered, at most `backoffMaxMs` (never less than the window).
 */
export const lockoutMs = (limits: AttemptLimits, strikes: number) =>
  Math.min(limits.windowMs * 2 ** Math.min(strikes - 1, 30), Math.max(limits.backoffMaxMs, limits.windowMs));

interface Lock {
  until: number;
  strikes: number;
}

/**
 * The wrong-password limit of one instance. Every attempt is charged to all its keys *before*
 * the password is verified (so a burst of concurrent guesses can never run more verifications
 * than the allowance), and refunded when the password was right. A key is refused while it
 * holds `max` attempts of the sliding window or while it is locked out. A back-off key (a
 * client) that fills its allowance with wrong passwords is locked out for the window, then for
 * twice the window, four times…, up to `backoffMaxMs`; its lock-outs are forgotten after
 * `backoffMaxMs` without a new one. Separate from the general rate limiter so that brute force
 * is stopped even when that one is off.
 */
export class AttemptLimiter {
  private readonly attempts = new Map<string, Map<number, number>>();
  private readonly locks = new Map<string, Lock>();
  private nextId = 0;

  constructor(
    protected readonly clock: Clock,
    protected readonly limits: AttemptLimits,
  ) {}

  /** Charges one attempt to every rule's key, or throws 429 (and charges nothing). */
  async reserve(rules: AttemptRule[]): Promise<AttemptTicket> {
    return this.reserveLocally(rules);
  }

  protected reserveLocally(rules: AttemptRule[]): AttemptTicket {
    const now = this.clock.now();
    let retryAfterMs = 0;
    for (const { key, max } of rules) {
      const recent = this.recent(key, now);
      if (recent.size >= max)
        retryAfterMs = Math.max(retryAfterMs, Math.min(...recent.values()) + this.limits.windowMs - now);
      const lock = this.locks.get(key);
      if (lock && lock.until > now) retryAfterMs = Math.max(retryAfterMs, lock.until - now);
    }
    if (retryAfterMs > 0) throw tooManyAttempts(retryAfterMs);
    const id = (this.nextId += 1);
    for (const { key } of rules) this.recent(key, now).set(id, now);
    if (this.attempts.size > 10_000) this.prune(now);
    return {
      refund: async () => {
        for (const { key } of rules) this.attempts.get(key)?.delete(id);
      },
      fail: async () => {
        for (const rule of rules) if (rule.backoff) this.escalate(rule, this.clock.now());
      },
    };
  }

  /** A wrong password on a full allowance starts the next lock-out (unless one is running). */
  private escalate({ key, max }: AttemptRule, now: number): void {
    if (this.recent(key, now).size < max) return;
    const lock = this.locks.get(key);
    if (lock && lock.until > now) return;
    const remembered = lock && now - lock.until < this.limits.backoffMaxMs;
    const strikes = remembered ? lock.strikes + 1 : 1;
    this.locks.set(key, { until: now + lockoutMs(this.limits, strikes), strikes });
  }

  private recent(key: string, now: number): Map<number, number> {
    let times = this.attempts.get(key);
    if (!times) {
      times = new Map();
      this.attempts.set(key, times);
    }
    for (const [id, at] of times) if (at <= now - this.limits.windowMs) times.delete(id);
    return times;
  }

  private prune(now: number): void {
    for (const [key, times] of this.attempts) {
      if (![...times.values()].some((t) => t > now - this.limits.windowMs)) this.attempts.delete(key);
    }
    for (const [key, lock] of this.locks) {
      if (now - lock.until >= this.limits.backoffMaxMs) this.locks.delete(key);
    }
  }
}
