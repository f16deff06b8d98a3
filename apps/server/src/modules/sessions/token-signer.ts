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

/** HS256 JWTs for room sessions; verification accepts nothing but HS256 with our key. */
export class TokenSigner {
  private readonly key: Uint8Array;

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
