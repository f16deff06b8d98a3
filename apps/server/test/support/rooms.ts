import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Expects the error envelope with this code (and the status that goes with it). */
export function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ error: { code: string; status: number; message: string } }>();
  expect(body.error.code).toBe(code);
  expect(body.error.status).toBe(status);
  expect(typeof body.error.message).toBe('string');
}

export async function createRoom(app: FastifyInstance, name: string, body: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${encodeURIComponent(name)}`,
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export async function enter(
  app: FastifyInstance,
  name: string,
  body: Record<string, unknown> = {},
): Promise<{
  token: string;
  claims: { jti: string; permission: number; room_id: number };
  refresh_token?: string;
}> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${encodeURIComponent(name)}/tokens`,
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
