import { AppError } from './errors.js';

/** `Algorithm.Argon2id`; the enum is a const enum that isolated modules cannot read. */
const ARGON2ID = 2;

/** The native module (≈ 3.5 MB RSS) loads with the first password, not at start. */
const argon2 = () => import('@node-rs/argon2');

export interface PasswordHashingLimits {
  /** Hashes and verifications running at once. */
  concurrency: number;
  /** Further ones waiting for a turn; past that the request is refused (503, Retry-After). */
  queue: number;
}

/**
 * Room passwords: Argon2id with the OWASP minimum (19 MiB, 2 passes). @node-rs/argon2 runs on
 * the libuv thread pool, so hashing never blocks the event loop, but each one holds a pool
 * thread and 19 MiB: at most `concurrency` run at once, `queue` more wait, and any further
 * request is refused at once with `503 SERVICE_UNAVAILABLE` and `Retry-After` rather than
 * queueing work that slows every file read sharing the pool. Counts the work it did.
 */
export class PasswordHasher {
  hashes = 0;
  verifications = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limits: PasswordHashingLimits = { concurrency: 2, queue: 32 }) {}

  hash(password: string): Promise<string> {
    return this.turn(async () => {
      this.hashes += 1;
      const { hash } = await argon2();
      return hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    });
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.turn(async () => {
      this.verifications += 1;
      const { verify } = await argon2();
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  private async turn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.concurrency) this.running += 1;
    else if (this.waiting.length < this.limits.queue) {
      // The finishing holder hands its turn over (running stays counted).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      throw new AppError('SERVICE_UNAVAILABLE', 'Too many password checks at once; retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
