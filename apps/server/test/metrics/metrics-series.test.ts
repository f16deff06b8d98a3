import { readFileSync } from 'node:fs';

import { sql } from 'kysely';
import { Client } from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { LIFECYCLE_LOCK_KEY } from '../../src/jobs/lifecycle.repository.js';
import { ManualClock } from '../../src/lib/clock.js';
import { HttpClient } from '../realtime/http-client.js';
import { WsClient } from '../realtime/ws-client.js';
import { type ContentsTestApp, createContentsApp, listen } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { find, parse, type Sample, types } from './prometheus.js';

/** The series table of docs/API.md (§ Metrics): name → type, without the `*` wildcard rows. */
function documentedSeries(): Map<string, string> {
  const doc = readFileSync(new URL('../../../../docs/API.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('## Background lifecycle'));
  const series = new Map<string, string>();
  for (const match of section.matchAll(/^\| `(elizabeth_[a-z_]+)`\s*\|\s*(\w+)\s*\|/gm)) {
    series.set(match[1]!, match[2]!);
  }
  return series;
}

const PURGED_KINDS = [
  'expired_rooms',
  'released_reservations',
  'expired_sessions',
  'expired_refresh_tokens',
  'expired_blacklist',
  'released_names',
  'released_download_leases',
  'blobs_deleted',
  'orphans_deleted',
];

/** The label names each series carries (histogram buckets add `le`). */
const LABELS: Record<string, string[]> = {
  elizabeth_http_requests_total: ['method', 'route', 'status'],
  elizabeth_http_request_duration_seconds: ['method', 'route', 'status'],
  elizabeth_websocket_connections: [],
  elizabeth_rooms: [],
  elizabeth_stored_bytes: [],
  elizabeth_uploads_in_progress: [],
  elizabeth_gc_runs_total: ['result'],
  elizabeth_gc_purged_items_total: ['kind'],
};

/**
 * API.md §5: `/metrics` scraped over HTTP and parsed. Every documented series is there with its
 * type and labels, nothing undocumented is, and each one moves with what it measures: live
 * sockets, rooms, stored bytes, unfinished uploads, lifecycle passes (completed, failed and,
 * on PostgreSQL, skipped) and what they purged, kind by kind.
 */
describeEachDatabase('/metrics series', (engine) => {
  let t: ContentsTestApp;
  let clock: ManualClock;
  let base: string;

  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2026, 7, 1));
    t = await createContentsApp({
      engine,
      clock,
      configure: (config) => {
        config.upload.reservation_ttl_seconds = 600;
        config.jwt.ttl_seconds = 600;
      },
    });
    base = await listen(t.app);
  });
  afterAll(() => t?.close());

  async function scrape(): Promise<{ samples: Sample[]; declared: Map<string, string> }> {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { samples: parse(text), declared: types(text) };
  }
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
    const found = find(samples, name, labels);
    expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
    return found[0]!.value;
  };

  it('lists exactly the documented series, with their types and labels', async () => {
    const documented = documentedSeries();
    expect([...documented.keys()].sort()).toEqual(Object.keys(LABELS).sort());
    // One request, so the HTTP series have a sample; the others have theirs from the start.
    await createRoom(t.app, 'metrics-types');
    const { samples, declared } = await scrape();
    for (const result of ['completed', 'skipped', 'failed']) {
      expect(value(samples, 'elizabeth_gc_runs_total', { result })).toBe(0);
    }
    for (const kind of PURGED_KINDS)
      expect(value(samples, 'elizabeth_gc_purged_items_total', { kind })).toBe(0);

    const own = [...declared.keys()].filter(
      (name) => !name.startsWith('elizabeth_process_') && !name.startsWith('elizabeth_nodejs_'),
    );
    expect(own.sort()).toEqual([...documented.keys()].sort());
    for (const [name, type] of documented) {
      expect(declared.get(name), name).toBe(type);
      const series = samples.filter((s) =>
        type === 'histogram' ? s.name.startsWith(`${name}_`) : s.name === name,
      );
      expect(series.length, name).toBeGreaterThan(0);
      for (const sample of series) {
        const expected = sample.name.endsWith('_bucket') ? [...LABELS[name]!, 'le'] : LABELS[name]!;
        expect(Object.keys(sample.labels).sort(), sample.name).toEqual([...expected].sort());
      }
    }
    expect(declared.get('elizabeth_process_cpu_user_seconds_total')).toBe('counter');
    expect(declared.get('elizabeth_process_resident_memory_bytes')).toBe('gauge');
    expect([...declared.keys()].some((name) => name.startsWith('elizabeth_nodejs_'))).toBe(true);
  });

  it('follows sockets, rooms, bytes, uploads and lifecycle passes', async () => {
    const start = await scrape();
    const runs = (samples: Sample[], result: string) =>
      find(samples, 'elizabeth_gc_runs_total', { result })[0]?.value ?? 0;
    const purged = (samples: Sample[], kind: string) =>
      find(samples, 'elizabeth_gc_purged_items_total', { kind })[0]?.value ?? 0;
    const roomsBefore = value(start.samples, 'elizabeth_rooms');

    await createRoom(t.app, 'metrics-live', { age_seconds: 86_400, max_size: 100_000 });
    await createRoom(t.app, 'metrics-doomed', { age_seconds: 60 });
    const live = new HttpClient(base, (await enter(t.app, 'metrics-live')).token);
    const doomed = new HttpClient(base, (await enter(t.app, 'metrics-doomed')).token);
    await live.json('POST', '/api/v1/rooms/metrics-live/messages', { text: 'hello' }, 201);
    await live.upload('metrics-live', [{ name: 'a.bin', content: Buffer.alloc(1000, 1) }]);
    const upload = await live.tusCreate('metrics-live', 5000, 'b.bin');
    await live.tusPatch(upload, 0, Buffer.alloc(2000, 2));
    await doomed.upload('metrics-doomed', [{ name: 'c.bin', content: Buffer.alloc(300, 3) }]);
    const sockets = [
      await WsClient.connect(live.wsUrl, live.token, 'metrics-live'),
      await WsClient.connect(doomed.wsUrl, doomed.token, 'metrics-doomed'),
    ];

    const busy = await scrape();
    expect(value(busy.samples, 'elizabeth_rooms')).toBe(roomsBefore + 2);
    // 5 message bytes + 1000 + the 5000 the tus upload reserved + 300.
    expect(value(busy.samples, 'elizabeth_stored_bytes')).toBe(
      value(start.samples, 'elizabeth_stored_bytes') + 6305,
    );
    expect(value(busy.samples, 'elizabeth_uploads_in_progress')).toBe(1);
    expect(value(busy.samples, 'elizabeth_websocket_connections')).toBe(2);
    const posted = { method: 'POST', route: '/api/v1/rooms/:name/messages', status: '201' };
    expect(value(busy.samples, 'elizabeth_http_requests_total', posted)).toBe(1);
    expect(value(busy.samples, 'elizabeth_http_request_duration_seconds_count', posted)).toBe(1);
    const patched = { method: 'PATCH', route: '/api/v1/rooms/:name/uploads/:id', status: '204' };
    expect(value(busy.samples, 'elizabeth_http_requests_total', patched)).toBe(1);

    // The doomed room expires; its socket is closed, its room, bytes and file are purged.
    clock.advance(61_000);
    await t.app.lifecycle.runPass();
    await sockets[1]!.expectClose();
    // The tus upload's reservation expires too.
    clock.advance(600_000);
    await t.app.lifecycle.runPass();
    // A pass that fails half-way (a table it needs is gone).
    await sql`ALTER TABLE token_blacklist RENAME TO token_blacklist_away`.execute(t.database.db);
    await expect(t.app.lifecycle.runPass()).rejects.toThrow();
    await sql`ALTER TABLE token_blacklist_away RENAME TO token_blacklist`.execute(t.database.db);
    if (engine === 'postgres') {
      // Another instance holds the lifecycle lock: this instance's pass is skipped.
      const other = new Client({ connectionString: t.config.database.url });
      await other.connect();
      try {
        await other.query('SELECT pg_advisory_lock($1)', [LIFECYCLE_LOCK_KEY]);
        expect((await t.app.lifecycle.runPass()).skipped).toBe(true);
      } finally {
        await other.end();
      }
    }
    await sockets[0]!.close();

    await expect.poll(async () => value((await scrape()).samples, 'elizabeth_websocket_connections')).toBe(0);
    const after = await scrape();
    expect(runs(after.samples, 'completed') - runs(start.samples, 'completed')).toBe(2);
    expect(runs(after.samples, 'failed') - runs(start.samples, 'failed')).toBe(1);
    expect(runs(after.samples, 'skipped') - runs(start.samples, 'skipped')).toBe(
      engine === 'postgres' ? 1 : 0,
    );
    expect(purged(after.samples, 'expired_rooms') - purged(start.samples, 'expired_rooms')).toBe(1);
    // The unfinished tus upload's, and the used one-shot reservation row (also counted).
    expect(
      purged(after.samples, 'released_reservations') - purged(start.samples, 'released_reservations'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      purged(after.samples, 'blobs_deleted') - purged(start.samples, 'blobs_deleted'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      purged(after.samples, 'expired_sessions') - purged(start.samples, 'expired_sessions'),
    ).toBeGreaterThan(0);
    expect(value(after.samples, 'elizabeth_rooms')).toBe(roomsBefore + 1);
    expect(value(after.samples, 'elizabeth_stored_bytes')).toBe(
      value(start.samples, 'elizabeth_stored_bytes') + 1005,
    );
    expect(value(after.samples, 'elizabeth_uploads_in_progress')).toBe(0);
  });
});
