import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { AppError } from '../../src/lib/errors.js';
import { TokenSigner } from '../../src/modules/sessions/token-signer.js';

const SECRET = 'token-signer-test-secret-0123456789-abcdef';
const subject = { room_id: 7, room_name: 'signer-room', permission: 15 };

async function rejected(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('AUTHENTICATION_FAILED');
  return (error as AppError).message;
}

/** Verified tokens are remembered; what a remembered token may do is what a fresh check allows. */
describe('token verification with remembered tokens', () => {
  const start = Date.UTC(2026, 10, 1, 12);

  it('still expires a remembered token, with the same leeway as the signature check', async () => {
    const clock = new ManualClock(start);
    const signer = new TokenSigner(SECRET, 5, clock);
    const { token } = await signer.sign(subject, 'access', start / 1000 + 60);
    expect((await signer.verify(token, 'access')).room_id).toBe(7);
    clock.advance(64_000);
    expect((await signer.verify(token, 'access')).room_id).toBe(7); // within the 5 s leeway
    clock.advance(1_000);
    expect(await rejected(signer.verify(token, 'access'))).toBe('Invalid or expired token');
    // A signer that never saw it agrees.
    expect(await rejected(new TokenSigner(SECRET, 5, clock).verify(token, 'access'))).toBe(
      'Invalid or expired token',
    );
  });

  it('keeps checking the type: a remembered refresh token is no access token, and back', async () => {
    const clock = new ManualClock(start);
    const signer = new TokenSigner(SECRET, 0, clock);
    const refresh = await signer.sign(subject, 'refresh', start / 1000 + 600);
    const access = await signer.sign(subject, 'access', start / 1000 + 600);
    expect((await signer.verify(refresh.token, 'refresh')).token_type).toBe('refresh');
    expect((await signer.verify(access.token, 'access')).token_type).toBe('access');
    expect(await rejected(signer.verify(refresh.token, 'access'))).toBe('Not a valid access token');
    expect(await rejected(signer.verify(access.token, 'refresh'))).toBe('Not a valid refresh token');
  });

  it('remembers exact texts only: a tampered copy of a remembered token is refused', async () => {
    const clock = new ManualClock(start);
    const signer = new TokenSigner(SECRET, 0, clock);
    const { token } = await signer.sign(subject, 'access', start / 1000 + 600);
    await signer.verify(token, 'access');
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, permission: 15, room_id: 8 })).toString(
      'base64url',
    );
    await rejected(signer.verify(`${header}.${forged}.${signature}`, 'access'));
    await rejected(signer.verify(`${token}x`, 'access'));
    await rejected(
      new TokenSigner('another-secret-0123456789-abcdefghijkl', 0, clock).verify(token, 'access'),
    );
  });

  it('hands out claims nobody can change for the next request', async () => {
    const clock = new ManualClock(start);
    const signer = new TokenSigner(SECRET, 0, clock);
    const { token } = await signer.sign(subject, 'access', start / 1000 + 600);
    const first = await signer.verify(token, 'access');
    expect(() => Object.assign(first, { permission: 0 })).toThrow(TypeError);
    expect((await signer.verify(token, 'access')).permission).toBe(15);
  });
});
