import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PRESENCE_COALESCE_ABOVE, PRESENCE_INTERVAL_MS } from '../../src/realtime/realtime-gateway.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createRoom, enter } from '../support/rooms.js';
import { listen, WsClient } from './ws-client.js';

describe('presence frames in a crowded room', () => {
  let t: TestApp;
  let url: string;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      configure: (config) => {
        config.realtime.max_connections_per_room = 500;
      },
    });
    url = await listen(t.app);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });

  it('are coalesced above the threshold, and the last count always arrives', async () => {
    const name = 'crowded-room';
    await createRoom(t.app, name, { max_times_entered: 1000 });
    const total = PRESENCE_COALESCE_ABOVE + 60;
    const tokens = [];
    for (let i = 0; i < total; i += 1) tokens.push((await enter(t.app, name)).token);

    const first = await WsClient.connect(url, tokens[0]!, name);
    clients.push(first);
    // Below the threshold every join is told at once, in order.
    for (let i = 1; i < PRESENCE_COALESCE_ABOVE; i += 1)
      clients.push(await WsClient.connect(url, tokens[i]!, name));
    await expect
      .poll(() => first.frames.filter((f) => f.message_type === 'user_joined').length)
      .toBe(PRESENCE_COALESCE_ABOVE);
    expect(
      first.frames
        .filter((f) => f.message_type === 'user_joined')
        .map((f) => (f.payload as { online: number }).online),
    ).toEqual(Array.from({ length: PRESENCE_COALESCE_ABOVE }, (_, i) => i + 1));

    // Above it, a burst of joins costs each socket a few frames, not one per join.
    const before = first.frames.length;
    const started = performance.now();
    const burst = await Promise.all(
      tokens.slice(PRESENCE_COALESCE_ABOVE).map((token) => WsClient.connect(url, token, name)),
    );
    clients.push(...burst);
    const elapsed = performance.now() - started;
    await expect
      .poll(() => (first.frames.at(-1)?.payload as { online?: number } | undefined)?.online, {
        timeout: 5_000,
      })
      .toBe(total);
    const told = first.frames.slice(before).filter((f) => f.message_type === 'user_joined');
    expect(told.length).toBeLessThanOrEqual(Math.ceil(elapsed / PRESENCE_INTERVAL_MS) + 2);
    expect(told.length).toBeLessThan(total - PRESENCE_COALESCE_ABOVE);
    const counts = told.map((f) => (f.payload as { online: number }).online);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // The newest socket hears the final count too.
    await expect
      .poll(() =>
        burst.some((c) => c.frames.some((f) => (f.payload as { online?: number }).online === total)),
      )
      .toBe(true);
  });
});
