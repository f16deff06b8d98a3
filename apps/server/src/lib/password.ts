/** `Algorithm.Argon2id`; the enum is a const enum that isolated modules cannot read. */
const ARGON2ID = 2;

/** The native module (≈ 3.5 MB RSS) loads with the first password, not at start. */
const argon2 = () => import('@node-rs/argon2');

/**
 * Room passwords: Argon2id with the OWASP minimum (19 MiB, 2 passes). @node-rs/argon2 runs on
 * the libuv thread pool, so hashing never blocks the event loop.
 */
export async function hashPassword(password: string): Promise<string> {
  const { hash } = await argon2();
  return hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const { verify } = await argon2();
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
