import { randomUUID } from 'node:crypto';

import { TokenClaims } from '@elizabeth/protocol';
import { jwtVerify, SignJWT } from 'jose';

import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';

export type TokenType = 'access' | 'refresh';

export interface TokenSubject {
  room_id: number;
  room_name: string;
  permission: number;
}

/** How many verified tokens are remembered (a few MB at most). */
const VERIFIED_CACHE_SIZE = 10_000;

/** HS256 JWTs for room sessions; verification accepts nothing but HS256 with our key. */
export class TokenSigner {
  private readonly key: Uint8Array;
  /**
   * Tokens whose signature and claims were verified, by their exact text: a signature check per
   * request is a large part of a small request's CPU. A hit still checks the type and the expiry
   * (revocation is the session's, checked per request by the caller). Oldest first, bounded.
   */
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    secret: string,
    private readonly leewaySeconds: number,
    private readonly clock: Clock,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(
    subject: TokenSubject,
    type: TokenType,
    expiresAtSeconds: number,
  ): Promise<{ token: string; claims: TokenClaims }> {
    const claims: TokenClaims = {
      sub: `room:${subject.room_id}`,
      jti: randomUUID(),
      room_id: subject.room_id,
      room_name: subject.room_name,
      permission: subject.permission,
      token_type: type,
      iat: Math.floor(this.clock.now() / 1000),
      exp: expiresAtSeconds,
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(this.key);
    return { token, claims };
  }

  /** The claims of a valid token of the given type; 401 for anything else. */
  async verify(token: string, type: TokenType): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known) {
      // The expiry test of jwtVerify, with the same leeway.
      if (known.exp <= Math.floor(this.clock.now() / 1000) - this.leewaySeconds) {
        this.verified.delete(token);
        throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
      }
      if (known.token_type !== type) throw new AppError('AUTHENTICATION_FAILED', `Not a valid ${type} token`);
      return known;
    }
    const claims = await this.verifySignature(token, type);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, Object.freeze(claims));
    return claims;
  }

  private async verifySignature(token: string, type: TokenType): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        clockTolerance: this.leewaySeconds,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'jti'],
      }));
    } catch {
      throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
    }
    const parsed = TokenClaims.safeParse(payload);
    if (!parsed.success || parsed.data.token_type !== type) {
      throw new AppError('AUTHENTICATION_FAILED', `Not a valid ${type} token`);
    }
    return parsed.data;
  }
}
