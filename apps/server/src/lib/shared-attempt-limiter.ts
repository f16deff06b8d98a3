import { randomUUID } from 'node:crypto';

import { AttemptLimiter } from './attempt-limiter.js';
import type { Clock } from './clock.js';
import type { RedisLink } from './redis-link.js';

interface FailureMessage {
  origin: string;
  keys: string[];
}

/**
 * The wrong-password limiter of several instances: each instance keeps the in-memory sliding
 * window of `AttemptLimiter` (so checks stay synchronous and work during a Redis outage) and
 * copies every failure it records to the others over Redis pub/sub. A failure on one instance
 * counts on all of them within the pub/sub delay (milliseconds). Failures recorded while an
 * instance was not subscribed (before it started, or during an outage) are not replayed.
 */
export class SharedAttemptLimiter extends AttemptLimiter {
  private readonly origin = randomUUID();
  private readonly channel: string;

  constructor(
    clock: Clock,
    windowMs: number,
    private readonly link: RedisLink,
    prefix = 'elizabeth',
  ) {
    super(clock, windowMs);
    this.channel = `${prefix}:password-failures`;
    link.subscribe(this.channel, (message) => this.receive(message));
  }

  override recordFailure(keys: string[]): void {
    super.recordFailure(keys);
    void this.link.publish(
      this.channel,
      JSON.stringify({ origin: this.origin, keys } satisfies FailureMessage),
    );
  }

  private receive(message: string): void {
    let parsed: Partial<FailureMessage>;
    try {
      parsed = JSON.parse(message) as Partial<FailureMessage>;
    } catch {
      return;
    }
    if (parsed.origin === this.origin || !Array.isArray(parsed.keys)) return;
    const keys = parsed.keys.filter((k): k is string => typeof k === 'string').slice(0, 16);
    if (keys.length > 0) super.recordFailure(keys);
  }
}
