/**
 * Property-based fuzzing of the WebSocket: random sequences of text and binary frames (garbage,
 * JSON of any shape, `connect` frames with wrong, foreign and valid credentials, oversized
 * frames). The server answers with well-formed frames only, closes with a documented code,
 * never logs an error, and keeps serving.
 */
import { WS_CLOSE, WsServerFrame } from '@elizabeth/protocol';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRoom, enter } from '../support/rooms.js';
import { FUZZ_RUNS, fuzzParameters, jsonValueArb } from './fuzz-support.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

const CLOSE_CODES = new Set<number>([...Object.values(WS_CLOSE), 1005, 1006, 1009]);

interface Outcome {
  frames: string[];
  close?: { code: number; reason: string };
}

/** Sends the frames (with small pauses), then waits a little for the answers. */
async function exchange(url: string, frames: Array<string | Buffer>): Promise<Outcome> {
  const socket = new WebSocket(url);
  const outcome: Outcome = { frames: [] };
  const closed = new Promise<void>((resolve) => {
    socket.on('close', (code, reason) => {
      outcome.close = { code, reason: reason.toString() };
      resolve();
    });
  });
  socket.on('message', (data) => outcome.frames.push((data as Buffer).toString('utf8')));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  for (const frame of frames) {
    if (socket.readyState !== WebSocket.OPEN) break;
    // ws sends a Buffer as a binary frame, a string as a text frame.
    socket.send(frame);
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 60))]);
  if (socket.readyState === WebSocket.OPEN) {
    socket.close(1000);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
  }
  return outcome;
}

describe('fuzzing the WebSocket protocol', () => {
  let t: LoggedApp;
  let url: string;
  let room: string;
  let token: string;
  let refresh: string;
  let other: string;

  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    url = `ws://127.0.0.1:${address.port}/api/v1/ws`;
    room = 'ws-fuzz';
    await createRoom(t.app, room);
    const session = await enter(t.app, room, { with_refresh_token: true });
    token = session.token;
    refresh = session.refresh_token!;
    await createRoom(t.app, 'ws-other');
    other = (await enter(t.app, 'ws-other')).token;
  });
  afterAll(() => t.close());

  it(
    'random frame sequences: well-formed answers, documented closes, no errors',
    { timeout: 300_000 },
    async () => {
      const credential = fc.constantFrom(
        () => token,
        () => refresh,
        () => other,
        () => token.slice(0, -2) + 'xx',
        () => 'a.b.c',
        () => '',
      );
      const roomName = fc.oneof(
        fc.constantFrom('ws-fuzz', 'ws-other', 'nope', '', '..', 'a'.repeat(500)),
        fc.string({ maxLength: 30 }),
      );
      const frameArb: fc.Arbitrary<string | Buffer | (() => string)> = fc.oneof(
        { weight: 3, arbitrary: fc.string({ maxLength: 100 }) },
        { weight: 3, arbitrary: jsonValueArb.map((v) => JSON.stringify(v) ?? 'null') },
        {
          weight: 4,
          arbitrary: fc
            .record({
              message_type: fc.constantFrom('connect', 'ping', 'pong', 'content_created', 'x', '', 7),
              payload: fc.oneof(
                jsonValueArb,
                fc.record({ token: fc.oneof(jsonValueArb, fc.constant('$token')), room_name: roomName }),
              ),
              timestamp: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(undefined)),
            })
            .map((frame) => () => JSON.stringify(frame).replace('"$token"', JSON.stringify(token))),
        },
        {
          weight: 2,
          arbitrary: fc.tuple(credential, roomName).map(
            ([cred, name]) =>
              () =>
                JSON.stringify({ message_type: 'connect', payload: { token: cred(), room_name: name } }),
          ),
        },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
        {
          weight: 1,
          arbitrary: fc.constant(JSON.stringify({ message_type: 'ping', payload: 'x'.repeat(300_000) })),
        },
      );
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.array(frameArb, { minLength: 1, maxLength: 8 }),
          async (authed, frames) => {
            // Half the runs open with a valid handshake, so the frames after it reach the open state.
            const connect = JSON.stringify({ message_type: 'connect', payload: { token, room_name: room } });
            const sent = [
              ...(authed ? [connect] : []),
              ...frames.map((f) => (typeof f === 'function' ? f() : f)),
            ];
            const outcome = await exchange(url, sent);
            for (const raw of outcome.frames) {
              const parsed = WsServerFrame.safeParse(JSON.parse(raw));
              expect(parsed.success, raw.slice(0, 300)).toBe(true);
              const type = parsed.data?.message_type ?? '?';
              seen.set(type, (seen.get(type) ?? 0) + 1);
            }
            if (outcome.close)
              expect(CLOSE_CODES, JSON.stringify(outcome.close)).toContain(outcome.close.code);
            expect(t.logs.errors(), t.logs.text.slice(-2000)).toEqual([]);
          },
        ),
        fuzzParameters(FUZZ_RUNS * 2),
      );
      // The runs reached past the handshake, not only its rejections.
      expect([...seen.keys()], JSON.stringify([...seen])).toEqual(
        expect.arrayContaining(['connect_ack', 'error']),
      );
      const health = await t.app.inject({ url: '/api/v1/health' });
      expect(health.statusCode).toBe(200);
    },
  );
});
