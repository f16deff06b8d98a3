import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';

/**
 * Rooms created per client address in a sliding window (one process; each instance counts
 * its own). `take` is called right before a room is inserted, so looking at existing rooms
 * costs nothing.
 */
export class RoomCreationLimit {
  private readonly created = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one creation for `client`, or throws 429 when its allowance is used up. */
  take(client: string): void {
    if (this.max <= 0) return;
    const now = this.clock.now();
    const recent = (this.created.get(client) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.max) {
      const seconds = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
      throw new AppError('RATE_LIMITED', `Too many rooms created from this address; retry in ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    recent.push(now);
    this.created.set(client, recent);
    if (this.created.size > 10_000) {
      for (const [key, times] of this.created) {
        if (!times.some((t) => t > now - this.windowMs)) this.created.delete(key);
      }
    }
  }
}
