/**
 * Issue 16 item 8: a WebSocket kept receiving room events after its access token expired.
 * At the token's expiry the server sends an `error` frame `token_expired` and closes with
 * 4401 (reason `token_expired`), which the web app answers by refreshing and reconnecting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listen, WsClient } from '../realtime/ws-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createRoom, enter } from '../support/rooms.js';

describe('WebSocket closed at token expiry', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { JWT_TTL_SECONDS: '6', JWT_LEEWAY_SECONDS: '0' } });
    url = await listen(t.app);
    await createRoom(t.app, 'ws-expiry');
  });
  afterAll(() => t.close());

  it(
    'closes with 4401 token_expired when the token expires, and not before',
    { timeout: 20_000 },
    async () => {
      const { token } = await enter(t.app, 'ws-expiry');
      const started = Date.now();
      const client = await WsClient.connect(url, token, 'ws-expiry');
      try {
        const closed = await Promise.race([
          client.closed,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000)),
        ]);
        expect(closed, 'the socket is still open 10 s after a 6 s token').toBeDefined();
        expect(closed!.code).toBe(4401);
        expect(closed!.reason).toBe('token_expired');
        expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
        const error = client.frames.find((f) => f.message_type === 'error');
        expect(error?.payload.code).toBe('token_expired');
      } finally {
        client.socket.terminate();
      }
    },
  );
});
