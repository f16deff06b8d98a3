import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

import { multipart } from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';

export const VIEW = 1;
export const EDIT = 2;
export const SHARE = 4;
export const DELETE = 8;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A room with something of every kind in it, made with a full-permission session. */
export interface RoomFixture {
  room: string;
  roomId: number;
  token: string;
  refresh: string;
  jti: string;
  messageId: number;
  fileId: number;
  uploadId: string;
}

let counter = 0;

export async function roomFixture(app: FastifyInstance, prefix = 'sec'): Promise<RoomFixture> {
  const room = `${prefix}-${process.pid}-${++counter}`;
  await createRoom(app, room);
  const session = await enter(app, room, { with_refresh_token: true });
  const auth = { authorization: `Bearer ${session.token}` };
  const msg = await app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${room}/messages`,
    headers: auth,
    payload: { text: 'hello' },
  });
  expect(msg.statusCode, msg.body).toBe(201);
  const body = multipart([{ name: 'a.txt', content: Buffer.from('abc'), type: 'text/plain' }]);
  const file = await app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${room}/contents`,
    headers: { ...auth, ...body.headers },
    payload: body.payload,
  });
  expect(file.statusCode, file.body).toBe(201);
  const upload = await app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${room}/uploads`,
    headers: {
      ...auth,
      'tus-resumable': '1.0.0',
      'upload-length': '4',
      'upload-metadata': `filename ${b64('t.bin')}`,
    },
  });
  expect(upload.statusCode, upload.body).toBe(201);
  return {
    room,
    roomId: session.claims.room_id,
    token: session.token,
    refresh: session.refresh_token!,
    jti: session.claims.jti,
    messageId: msg.json<{ message: { id: number } }>().message.id,
    fileId: file.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id,
    uploadId: String(upload.headers.location ?? '')
      .split('/')
      .pop()!,
  };
}

export interface TokenRoute {
  name: string;
  /** The permission bit the route needs besides VIEW (VIEW itself for read routes). */
  bit: number;
  /** Success status. */
  ok: number;
  send(app: FastifyInstance, f: RoomFixture, auth: Record<string, string>): Promise<LightMyRequestResponse>;
}

const json = { 'content-type': 'application/json' };
const tus = { 'tus-resumable': '1.0.0' };

/** Every token-protected content, upload and download route (API.md §3), with a valid request. */
export const CONTENT_ROUTES: TokenRoute[] = [
  {
    name: 'GET contents',
    bit: VIEW,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'GET', url: `/api/v1/rooms/${f.room}/contents`, headers: auth }),
  },
  {
    name: 'GET messages',
    bit: VIEW,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'GET', url: `/api/v1/rooms/${f.room}/messages`, headers: auth }),
  },
  {
    name: 'POST messages',
    bit: EDIT,
    ok: 201,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/messages`,
        headers: { ...auth, ...json },
        payload: { text: 'x' },
      }),
  },
  {
    name: 'POST contents/url',
    bit: EDIT,
    ok: 201,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/contents/url`,
        headers: { ...auth, ...json },
        payload: { url: 'https://example.com/', name: 'ex' },
      }),
  },
  {
    name: 'PUT contents/{id}',
    bit: EDIT,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${f.room}/contents/${f.messageId}`,
        headers: { ...auth, ...json },
        payload: { text: 'edited' },
      }),
  },
  {
    name: 'DELETE contents',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/${f.room}/contents`,
        headers: { ...auth, ...json },
        payload: { ids: [f.fileId] },
      }),
  },
  {
    name: 'POST contents/prepare',
    bit: EDIT,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/contents/prepare`,
        headers: { ...auth, ...json },
        payload: { files: [{ name: 'p.txt', size: 3 }] },
      }),
  },
  {
    name: 'POST contents (one-shot multipart)',
    bit: EDIT,
    ok: 201,
    send: (app, f, auth) => {
      const body = multipart([{ name: 'b.txt', content: Buffer.from('b') }]);
      return app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/contents`,
        headers: { ...auth, ...body.headers },
        payload: body.payload,
      });
    },
  },
  {
    name: 'POST uploads (tus create)',
    bit: EDIT,
    ok: 201,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/uploads`,
        headers: { ...auth, ...tus, 'upload-length': '2', 'upload-metadata': `filename ${b64('c.bin')}` },
      }),
  },
  {
    name: 'HEAD uploads/{id}',
    bit: EDIT,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'HEAD',
        url: `/api/v1/rooms/${f.room}/uploads/${f.uploadId}`,
        headers: { ...auth, ...tus },
      }),
  },
  {
    name: 'PATCH uploads/{id}',
    bit: EDIT,
    ok: 204,
    send: (app, f, auth) =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/rooms/${f.room}/uploads/${f.uploadId}`,
        headers: { ...auth, ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
        payload: Buffer.from('ab'),
      }),
  },
  {
    name: 'DELETE uploads/{id}',
    bit: EDIT,
    ok: 204,
    send: (app, f, auth) =>
      app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/${f.room}/uploads/${f.uploadId}`,
        headers: { ...auth, ...tus },
      }),
  },
  {
    name: 'GET contents/{id} (download)',
    bit: VIEW,
    ok: 200,
    send: (app, f, auth) => app.inject({ method: 'GET', url: `/api/v1/contents/${f.fileId}`, headers: auth }),
  },
  {
    name: 'HEAD contents/{id}',
    bit: VIEW,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'HEAD', url: `/api/v1/contents/${f.fileId}`, headers: auth }),
  },
  {
    name: 'GET archive',
    bit: VIEW,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'GET', url: `/api/v1/rooms/${f.room}/archive`, headers: auth }),
  },
];

/** Room management routes (API.md §1–2): DELETE bit in the token only. */
export const MANAGEMENT_ROUTES: TokenRoute[] = [
  {
    name: 'PUT settings',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${f.room}/settings`,
        headers: { ...auth, ...json },
        payload: { max_times_entered: 50 },
      }),
  },
  {
    name: 'POST permissions',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/permissions`,
        headers: { ...auth, ...json },
        payload: { edit: true, share: true, delete: true },
      }),
  },
  {
    name: 'GET tokens',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'GET', url: `/api/v1/rooms/${f.room}/tokens`, headers: auth }),
  },
  {
    name: 'DELETE tokens/{jti}',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'DELETE', url: `/api/v1/rooms/${f.room}/tokens/${f.jti}`, headers: auth }),
  },
  {
    name: 'DELETE room',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) => app.inject({ method: 'DELETE', url: `/api/v1/rooms/${f.room}`, headers: auth }),
  },
  {
    name: 'POST share-links',
    bit: DELETE,
    ok: 201,
    send: (app, f, auth) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/share-links`,
        headers: auth,
        payload: { permission: VIEW },
      }),
  },
  {
    name: 'GET share-links',
    bit: DELETE,
    ok: 200,
    send: (app, f, auth) =>
      app.inject({ method: 'GET', url: `/api/v1/rooms/${f.room}/share-links`, headers: auth }),
  },
];

export const ALL_TOKEN_ROUTES = [...CONTENT_ROUTES, ...MANAGEMENT_ROUTES];
