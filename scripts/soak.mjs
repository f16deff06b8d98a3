#!/usr/bin/env node
// `npm run soak`: QUALITY.md "Load: a sustained mixed workload for minutes with flat memory (no
// leak) and no errors". Starts the server (`apps/server/bin/elizabeth.js serve`: the build when
// there is one, else the sources through tsx) on 127.0.0.1 with a temporary data dir, runs a
// mixed workload — rooms, tokens, messages, one-shot and tus uploads, downloads, deletes,
// archives, WebSocket clients coming and going, lifecycle passes — and prints the server's RSS
// over time. Not part of CI. Exits non-zero on any 5xx, broken envelope or lost message, or
// when memory keeps growing (last-quarter median RSS > first-quarter median × 1.25 + 16 MiB).
//
//   npm run soak                          5 minutes, 8 workers
//   npm run soak -- --minutes 2 --workers 4 --sample 5
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    workers: { type: 'string', default: '8' },
    sample: { type: 'string', default: '10' },
  },
});
const DURATION_MS = Number(args.minutes) * 60_000;
const WORKERS = Number(args.workers);
const SAMPLE_MS = Number(args.sample) * 1000;
const ADMIN = `soak-admin-${randomBytes(12).toString('hex')}`;
const bin = fileURLToPath(new URL('../apps/server/bin/elizabeth.js', import.meta.url));
const MiB = 1024 * 1024;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'elz-soak-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, [bin, 'serve'], {
  env: {
    PATH: process.env.PATH,
    HOME: dir,
    DATA_DIR: dir,
    LISTEN_ADDR: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ELIZABETH_ADMIN_TOKEN: ADMIN,
    MIDDLEWARE_RATE_LIMIT_ENABLED: 'false',
    ROOM_CREATION_LIMIT_MAX: '0',
    MAX_CONNECTIONS_PER_CLIENT: '1000000',
    REALTIME_MAX_CONNECTIONS_PER_CLIENT: '1000000',
    GC_INTERVAL_SECONDS: '15',
    WEB_ROOT: join(dir, 'no-web'),
  },
  stdio: ['ignore', 'inherit', 'pipe'],
});
let serverErrors = '';
child.stderr.on('data', (c) => (serverErrors += c.toString()));
const cleanup = () => {
  if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/api/v1/health`)).ok) break;
  } catch {
    // starting
  }
  if (i > 600 || child.exitCode !== null) {
    console.error(`server did not start:\n${serverErrors}`);
    cleanup();
    process.exit(1);
  }
  await sleep(100);
}

const stats = { requests: 0, errors: [], byKind: {}, wsFrames: 0, bytesUp: 0, bytesDown: 0 };
const fail = (what) => {
  if (stats.errors.length < 50) stats.errors.push(what);
};

async function call(kind, path, init = {}) {
  const res = await fetch(`${base}${path}`, init);
  stats.requests++;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  if (res.status >= 500) fail(`${kind} ${path} → ${res.status} ${await res.text()}`);
  else if (res.status >= 400) {
    const text = await res.text();
    try {
      if (!JSON.parse(text).error?.code) fail(`${kind} → ${res.status} without envelope`);
    } catch {
      fail(`${kind} → ${res.status} not JSON: ${text.slice(0, 100)}`);
    }
    return { res, body: undefined };
  }
  return { res, body: res };
}

const jsonInit = (method, body, token) => ({
  method,
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

function multipart(name, content) {
  const boundary = `----soak${randomBytes(6).toString('hex')}`;
  return {
    body: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** One worker: a room's life — enter, chat, upload, download, delete, sometimes delete the room. */
async function worker(id, until) {
  let cycle = 0;
  while (Date.now() < until) {
    const room = `soak-${id}-${cycle++}`;
    const created = await call(
      'create room',
      `/api/v1/rooms/${room}`,
      jsonInit('POST', { max_times_entered: 1000 }),
    );
    if (!created.body) continue;
    await created.res.arrayBuffer();
    const entered = await call(
      'token',
      `/api/v1/rooms/${room}/tokens`,
      jsonInit('POST', { with_refresh_token: true }),
    );
    if (!entered.body) continue;
    const session = await entered.res.json();
    const token = session.token;
    const auth = { authorization: `Bearer ${token}` };

    // A WebSocket client that must see every message this worker posts.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws`);
    const seen = new Set();
    const opened = new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let acked;
    const ack = new Promise((resolve) => (acked = resolve));
    ws.on('message', (data) => {
      stats.wsFrames++;
      const frame = JSON.parse(data.toString());
      if (frame.message_type === 'connect_ack') acked();
      if (frame.message_type === 'content_created') seen.add(frame.payload.content.id);
    });
    await opened;
    ws.send(JSON.stringify({ message_type: 'connect', payload: { token, room_name: room } }));
    // Events reach a socket from its connect_ack on.
    const gotAck = await Promise.race([ack.then(() => true), sleep(10_000).then(() => false)]);
    if (!gotAck) fail(`no connect_ack in ${room}`);

    const posted = [];
    for (let round = 0; round < 6 && Date.now() < until; round++) {
      for (let m = 0; m < 10; m++) {
        const r = await call(
          'message',
          `/api/v1/rooms/${room}/messages`,
          jsonInit('POST', { text: `m ${round}.${m} ${'x'.repeat(m * 50)}` }, token),
        );
        if (r.body) posted.push((await r.res.json()).message.id);
      }
      const content = randomBytes(64 * 1024 + Math.floor(Math.random() * 512 * 1024));
      const form = multipart(`f${round}.bin`, content);
      const up = await call('upload', `/api/v1/rooms/${room}/contents`, {
        method: 'POST',
        headers: { ...auth, 'content-type': form.type },
        body: form.body,
      });
      if (up.body) {
        stats.bytesUp += content.length;
        const fileId = (await up.res.json()).uploaded[0].id;
        const down = await call('download', `/api/v1/contents/${fileId}`, { headers: auth });
        if (down.body) {
          const bytes = Buffer.from(await down.res.arrayBuffer());
          stats.bytesDown += bytes.length;
          if (sha(bytes) !== sha(content)) fail(`download of ${fileId} returned other bytes`);
        }
        if (round % 2 === 0) {
          const del = await call(
            'delete',
            `/api/v1/rooms/${room}/contents`,
            jsonInit('DELETE', { ids: [fileId] }, token),
          );
          if (del.body) await del.res.arrayBuffer();
        }
      }
      if (round === 3) {
        // tus: create, two PATCHes.
        const data = randomBytes(256 * 1024);
        const c = await call('tus', `/api/v1/rooms/${room}/uploads`, {
          method: 'POST',
          headers: {
            ...auth,
            'tus-resumable': '1.0.0',
            'upload-length': String(data.length),
            'upload-metadata': `filename ${Buffer.from('t.bin').toString('base64')}`,
          },
        });
        if (c.body) {
          const location = c.res.headers.get('location');
          for (const [start, end] of [
            [0, 128 * 1024],
            [128 * 1024, data.length],
          ]) {
            const p = await call('tus', new URL(location, base).pathname, {
              method: 'PATCH',
              headers: {
                ...auth,
                'tus-resumable': '1.0.0',
                'upload-offset': String(start),
                'content-type': 'application/offset+octet-stream',
              },
              body: data.subarray(start, end),
            });
            if (p.body) await p.res.arrayBuffer();
          }
        }
      }
      const list = await call('list', `/api/v1/rooms/${room}/messages?limit=50`, { headers: auth });
      if (list.body) await list.res.arrayBuffer();
    }
    const archive = await call('archive', `/api/v1/rooms/${room}/archive`, { headers: auth });
    if (archive.body) stats.bytesDown += (await archive.res.arrayBuffer()).byteLength;
    const refresh = await call(
      'refresh',
      '/api/v1/auth/refresh',
      jsonInit('POST', { refresh_token: session.refresh_token }),
    );
    if (refresh.body) await refresh.res.arrayBuffer();
    for (let wait = 0; wait < 50 && posted.some((id) => !seen.has(id)); wait++) await sleep(100);
    for (const id of posted) if (!seen.has(id)) fail(`WebSocket missed message ${id} in ${room}`);
    ws.close();
    // Half the rooms are deleted, half are left for the lifecycle (and keep the database growing
    // a little, as a real instance would).
    if (cycle % 2 === 0) {
      const del = await call('delete room', `/api/v1/rooms/${room}`, { method: 'DELETE', headers: auth });
      if (del.body) await del.res.arrayBuffer();
    }
  }
}

const samples = [];
async function sampleStatus() {
  const res = await fetch(`${base}/api/v1/status`);
  const status = await res.json();
  samples.push({
    t: Math.round((Date.now() - started) / 1000),
    rss: status.memory.rss_bytes,
    heap: status.memory.heap_used_bytes,
    requests: stats.requests,
    sockets: status.realtime.connections,
  });
  const s = samples.at(-1);
  console.log(
    `${String(s.t).padStart(5)} s  rss ${(s.rss / MiB).toFixed(1).padStart(7)} MiB  heap ${(s.heap / MiB).toFixed(1).padStart(6)} MiB  requests ${String(s.requests).padStart(7)}  sockets ${s.sockets}`,
  );
}

const started = Date.now();
const until = started + DURATION_MS;
console.log(`soak: ${args.minutes} min, ${WORKERS} workers, server ${base} (pid ${child.pid})`);
await sampleStatus();
const sampler = setInterval(() => void sampleStatus().catch((e) => fail(`status: ${e.message}`)), SAMPLE_MS);
const gcLoop = (async () => {
  while (Date.now() < until) {
    await sleep(5000);
    await call('admin gc', '/api/v1/admin/gc', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    }).then((r) => r.body?.arrayBuffer());
  }
})();
await Promise.all([
  ...Array.from({ length: WORKERS }, (_, i) =>
    worker(i, until).catch((e) => fail(`worker ${i}: ${e.stack ?? e}`)),
  ),
  gcLoop,
]);
clearInterval(sampler);
await sampleStatus();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const quarter = Math.max(1, Math.floor(samples.length / 4));
const firstRss = median(samples.slice(1, 1 + quarter).map((s) => s.rss));
const lastRss = median(samples.slice(-quarter).map((s) => s.rss));
const peak = Math.max(...samples.map((s) => s.rss));
const elapsed = (Date.now() - started) / 1000;
const growing = lastRss > firstRss * 1.25 + 16 * MiB;
console.log('');
console.log(
  `requests: ${stats.requests} in ${elapsed.toFixed(0)} s (${(stats.requests / elapsed).toFixed(0)}/s), ws frames received: ${stats.wsFrames}`,
);
console.log(
  `uploaded ${(stats.bytesUp / MiB).toFixed(0)} MiB, downloaded ${(stats.bytesDown / MiB).toFixed(0)} MiB`,
);
console.log(
  `by kind: ${Object.entries(stats.byKind)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(
  `RSS: start ${(samples[0].rss / MiB).toFixed(1)} MiB, first-quarter median ${(firstRss / MiB).toFixed(1)} MiB, last-quarter median ${(lastRss / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB → ${growing ? 'GROWING' : 'flat'}`,
);
const logged = serverErrors.split('\n').filter((l) => /"level":(50|60)/.test(l));
console.log(`errors: ${stats.errors.length}, server error log lines: ${logged.length}`);
for (const e of stats.errors) console.log(`  ${e}`);
for (const l of logged.slice(0, 10)) console.log(`  server: ${l.slice(0, 300)}`);
cleanup();
process.exit(stats.errors.length > 0 || logged.length > 0 || growing ? 1 : 0);
