// Realtime fan-out: N sockets in one room (docs/WEBSOCKET.md protocol), M messages posted one
// after another over HTTP; every socket must receive every message, in order. Latency is post
// start -> frame received, on one clock (poster and sockets live in this process).
import http from 'node:http';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { percentile, request } from './lib.mjs';

const require = createRequire(fileURLToPath(new URL('../../apps/server/package.json', import.meta.url)));
const { default: WebSocket } = await import(require.resolve('ws'));

function openSocket(wsUrl, token, roomName, onFrame) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
    let acked = false;
    socket.on('open', () =>
      socket.send(JSON.stringify({ message_type: 'connect', payload: { token, room_name: roomName } })),
    );
    socket.on('message', (data) => {
      const text = data.toString('utf8');
      if (!acked) {
        const frame = JSON.parse(text);
        if (frame.message_type === 'connect_ack') {
          acked = true;
          resolve(socket);
        } else if (frame.message_type === 'error') {
          reject(new Error(`connect refused: ${JSON.stringify(frame.payload)}`));
        }
        return;
      }
      onFrame(text);
    });
    socket.on('error', (error) => {
      if (!acked) reject(error);
    });
    socket.on('close', (code) => {
      if (!acked) reject(new Error(`socket closed with ${code} before connect_ack`));
    });
  });
}

/**
 * @returns {{sockets, messages, expected, received, lost, outOfOrder, postFailures, p50, p99, max,
 *   connectMs, postMs}}
 */
export async function fanOut({ base, wsUrl, roomName, token, sockets, messages, settleMs = 1_000 }) {
  const prefix = `fanout-${sockets}-${Date.now().toString(36)}-`;
  const sentAt = new Float64Array(messages).fill(NaN);
  const latencies = [];
  const received = new Int32Array(sockets);
  const lastIndex = new Int32Array(sockets).fill(-1);
  let outOfOrder = 0;
  let total = 0;
  let onAllReceived;

  const handlerFor = (slot) => (text) => {
    // Only content frames of this run matter; presence frames are skipped cheaply.
    if (!text.includes('"content_created"') || !text.includes(prefix)) return;
    const now = performance.now();
    const frame = JSON.parse(text);
    const body = String(frame.payload?.content?.text ?? '');
    if (!body.startsWith(prefix)) return;
    const index = Number(body.slice(prefix.length));
    latencies.push(now - sentAt[index]);
    if (index <= lastIndex[slot]) outOfOrder++;
    lastIndex[slot] = index;
    received[slot]++;
    if (++total === sockets * messages) onAllReceived?.();
  };

  const connectStart = performance.now();
  const open = [];
  const batch = 50;
  try {
    for (let i = 0; i < sockets; i += batch) {
      const group = [];
      for (let j = i; j < Math.min(sockets, i + batch); j++) {
        group.push(openSocket(wsUrl, token, roomName, handlerFor(j)));
      }
      open.push(...(await Promise.all(group)));
    }
    const connectMs = performance.now() - connectStart;
    await sleep(settleMs); // let the presence frames of the joins drain

    const allReceived = new Promise((resolve) => (onAllReceived = resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = `${base}/api/v1/rooms/${encodeURIComponent(roomName)}/messages`;
    let postFailures = 0;
    const postStart = performance.now();
    for (let i = 0; i < messages; i++) {
      const body = JSON.stringify({ text: `${prefix}${i}` });
      sentAt[i] = performance.now();
      const res = await request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
        agent,
      });
      if (res.status !== 201) postFailures++;
    }
    const postMs = performance.now() - postStart;
    agent.destroy();
    const expected = sockets * (messages - postFailures);
    if (total < expected) await Promise.race([allReceived, sleep(10_000)]);
    return {
      sockets,
      messages,
      expected: sockets * messages,
      received: total,
      lost: sockets * messages - total,
      outOfOrder,
      postFailures,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
      connectMs,
      postMs,
    };
  } finally {
    for (const socket of open) socket.terminate();
  }
}
