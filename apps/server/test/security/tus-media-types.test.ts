/**
 * tus requests whose body has a media type Fastify parses itself (JSON, text): the parser
 * consumes the request stream before the tus handler wraps it, which used to answer 500.
 * They must be refused with a 4xx envelope (415 for PATCH, which only takes
 * application/offset+octet-stream), and leave the quota untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectQuotaInvariant } from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';
import { expectNoServerError } from './fuzz-support.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

describe('tus routes with a body of another media type', () => {
  let t: LoggedApp;
  let token: string;
  let roomId: number;
  let location: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn' });
    await createRoom(t.app, 'tus-media');
    const session = await enter(t.app, 'tus-media');
    token = session.token;
    roomId = session.claims.room_id;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/tus-media/uploads',
      headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': '4' },
    });
    expect(created.statusCode, created.body).toBe(201);
    location = String(created.headers.location);
  });
  afterAll(() => t.close());

  for (const type of ['text/plain', 'application/json', 'application/json; charset=utf-8']) {
    for (const method of ['POST', 'PATCH'] as const) {
      it(`${method} with Content-Type ${type} → 4xx envelope, never 500`, async () => {
        const res = await t.app.inject({
          method,
          url: method === 'POST' ? '/api/v1/rooms/tus-media/uploads' : location,
          headers: {
            authorization: `Bearer ${token}`,
            'tus-resumable': '1.0.0',
            'upload-length': '4',
            'upload-offset': '0',
            'content-type': type,
          },
          payload: '{"a":1}',
        });
        expectNoServerError(res, method, `${method} ${type}`);
        if (method === 'PATCH') expect(res.statusCode).toBe(415);
        await expectQuotaInvariant(t.database, roomId);
        expect(t.logs.errors()).toEqual([]);
      });
    }
  }
});
