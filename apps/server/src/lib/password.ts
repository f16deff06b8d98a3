import { hash, verify } from '@node-rs/argon2';

/** `Algorithm.Argon2id`; the enum is a const enum that isolated modules cannot read. */
const ARGON2ID = 2;

/**
 * Room passwords: Argon2id with the OWASP minimum (19 MiB, 2 passes). @node-rs/argon2 runs on
 * the libuv thread pool, so hashing never blocks the event loop. One instance per app counts
 * the work it did (hashes, verifications).
 */
export class PasswordHasher {
  hashes = 0;
  verifications = 0;

  hash(password: string): Promise<string> {
    this.hashes += 1;
    return hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }
}
