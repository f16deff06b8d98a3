import { ErrorEnvelope } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { createRoom, enter } from '../support/rooms.js';

/** Every response must be the envelope with a 4xx status: never a 500, never plain text. */
function expectClientError(status: number, body: string): void {
  expect(status, body).toBeGreaterThanOrEqual(400);
  expect(status, body).toBeLessThan(500);
  expect(ErrorEnvelope.safeParse(JSON.parse(body)).success, body).toBe(true);
}

describe('bad input on room and session routes', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp();
    await createRoom(t.app, 'input-room');
    token = (await enter(t.app, 'input-room')).token;
  });
  afterAll(() => t.close());

  const names = [
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e',
    '%ff%fe',
    '%00abc',
    'a'.repeat(300),
    '%E2%80%AEabc',
    'x%0Ay%0Dz',
    '<script>',
  ];
  const bodies: unknown[] = [
    '',
    'null',
    '[]',
    '"string"',
    '{"password": 12}',
    '{"password": {"$ne": 1}}',
    `{"password": "${'p'.repeat(5000)}"}`,
    '{"age_seconds": 1e309}',
    '{"max_size": -5}',
    '{"max_times_entered": 1.5}',
    '{"token": 42}',
    '{"with_refresh_token": "yes"}',
    '{"edit": "true"}',
    '{"__proto__": {"admin": true}}',
    '{"password": "\\ud800"}',
  ];
  const routes: Array<{
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: (name: string) => string;
    auth: boolean;
  }> = [
    { method: 'POST', path: (n) => `/api/v1/rooms/${n}`, auth: false },
    { method: 'GET', path: (n) => `/api/v1/rooms/${n}`, auth: false },
    { method: 'DELETE', path: (n) => `/api/v1/rooms/${n}`, auth: true },
    { method: 'POST', path: (n) => `/api/v1/rooms/${n}/permissions`, auth: true },
    { method: 'PUT', path: (n) => `/api/v1/rooms/${n}/settings`, auth: true },
    { method: 'POST', path: (n) => `/api/v1/rooms/${n}/tokens`, auth: false },
    { method: 'POST', path: (n) => `/api/v1/rooms/${n}/tokens/validate`, auth: false },
    { method: 'GET', path: (n) => `/api/v1/rooms/${n}/tokens`, auth: true },
    { method: 'DELETE', path: (n) => `/api/v1/rooms/${n}/tokens/%2e%2e`, auth: true },
    { method: 'POST', path: (n) => `/api/v1/rooms/${n}/password/verify`, auth: false },
    { method: 'POST', path: () => `/api/v1/auth/refresh`, auth: false },
    { method: 'POST', path: () => `/api/v1/auth/logout`, auth: false },
  ];

  it('hostile room names on every route', async () => {
    for (const route of routes) {
      for (const name of names) {
        const res = await t.app.inject({
          method: route.method,
          url: route.path(name),
          headers: {
            'content-type': 'application/json',
            ...(route.auth ? { authorization: `Bearer ${token}` } : {}),
          },
          ...(route.method === 'GET' ? {} : { payload: '{}' }),
        });
        expectClientError(res.statusCode, res.body);
      }
    }
  });

  it('malformed and hostile bodies on every route', async () => {
    for (const route of routes.filter((r) => r.method === 'POST' || r.method === 'PUT')) {
      for (const body of bodies) {
        const res = await t.app.inject({
          method: route.method,
          url: route.path('input-room'),
          headers: {
            'content-type': 'application/json',
            ...(route.auth ? { authorization: `Bearer ${token}` } : {}),
          },
          payload: body as string,
        });
        // some bodies are acceptable for some routes; what matters is: never a 5xx, always JSON
        expect(
          res.statusCode,
          `${route.method} ${route.path('input-room')} ${String(body)}: ${res.body}`,
        ).toBeLessThan(500);
        if (res.statusCode >= 400) expectClientError(res.statusCode, res.body);
      }
    }
  });

  it('a missing token is 401 before a malformed body is looked at', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/rooms/input-room/settings',
      headers: { 'content-type': 'application/json' },
      payload: '{ broken',
    });
    expect(res.statusCode).toBe(401);
  });
});
