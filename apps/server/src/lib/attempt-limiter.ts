import type { Clock } from './clock.js';
import { AppError } from './errors.js';

/**
 * Counts failures (wrong passwords) per key in a sliding window. Separate from the general
 * rate limiter so that brute force is stopped even when that one is off.
 */
export class AttemptLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  /** Throws 429 when any key has used up its allowance; `limits` maps key → allowed failures. */
  check(limits: Record<string, number>): void {
    const now = this.clock.now();
    let retryAfterMs = 0;
    for (const [key, max] of Object.entries(limits)) {
      const recent = this.recent(key, now);
      if (recent.length >= max) retryAfterMs = Math.max(retryAfterMs, recent[0]! + this.windowMs - now);
    }
    if (retryAfterMs > 0) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new AppError('RATE_LIMITED', `Too many wrong passwords; retry in ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
  }

  recordFailure(keys: string[]): void {
    const now = this.clock.now();
    for (const key of keys) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.set(key, recent);
    }
    if (this.failures.size > 10_000) this.prune(now);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }

  private prune(now: number): void {
    for (const [key, times] of this.failures) {
      if (!times.some((t) => t > now - this.windowMs)) this.failures.delete(key);
    }
  }
}
