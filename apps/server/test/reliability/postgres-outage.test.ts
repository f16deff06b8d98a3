/**
 * QUALITY.md "Dependencies failing": a private PostgreSQL (never the shared one) is stopped and
 * restarted while clients keep sending a mixed workload. During the outage every answer is a
 * 503 SERVICE_UNAVAILABLE envelope (or, for a request already past the database, its normal
 * answer) — never a 500, never a crash; health says 503; after the restart everything works
 * again without restarting the app, and the accounting adds up.
 */
import { ErrorEnvelope } from '@elizabeth/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createDatabase } from '../../src/db/index.js';
import { createLoggedApp, type LoggedApp } from '../security/logged-app.js';
import { multipart } from '../support/contents.js';
import { describeWithService } from '../support/services.js';
import { expectConsistent } from './invariants.js';
import { PrivatePostgres, privatePostgresAvailability } from './private-postgres.js';

describeWithService(
  'a private PostgreSQL cluster',
  privatePostgresAvailability(),
  'PostgreSQL stopped and restarted under load',
  () => {
    let pg: PrivatePostgres;
    let t: LoggedApp;

    beforeAll(async () => {
      pg = await PrivatePostgres.create();
      t = await createLoggedApp({
        level: 'warn',
        configure: (c) => {
          c.middleware.rate_limit.enabled = false;
          // The workload enters the room hundreds of times; the entry limit is not under test.
          c.room.limits.max_times_entered = 1_000_000;
          c.room.defaults.max_times_entered = 1_000_000;
        },
        databaseUrl: pg.url,
      });
    }, 120_000);
    afterAll(async () => {
      await t?.close();
      pg?.destroy();
    });

    for (const mode of ['fast', 'immediate'] as const)
      it(
        `stop -m ${mode}: 503 envelopes during the outage, full recovery after, no 500, no crash`,
        { timeout: 120_000 },
        async () => {
          const app = t.app;
          await app.inject({ method: 'POST', url: `/api/v1/rooms/outage-${mode}`, payload: {} });
          const entered = await app.inject({
            method: 'POST',
            url: `/api/v1/rooms/outage-${mode}/tokens`,
            payload: {},
          });
          expect(entered.statusCode, entered.body).toBe(200);
          const token = entered.json<{ token: string }>().token;
          const auth = { authorization: `Bearer ${token}` };

          type Phase = 'before' | 'outage' | 'after';
          let phase: Phase = 'before';
          const seen: Record<Phase, Map<number, number>> = {
            before: new Map(),
            outage: new Map(),
            after: new Map(),
          };
          const bad: string[] = [];
          let running = true;

          const requests = [
            () => app.inject({ method: 'GET', url: `/api/v1/rooms/outage-${mode}` }),
            () => app.inject({ method: 'GET', url: `/api/v1/rooms/outage-${mode}/contents`, headers: auth }),
            () =>
              app.inject({
                method: 'POST',
                url: `/api/v1/rooms/outage-${mode}/messages`,
                headers: auth,
                payload: { text: 'during the outage?' },
              }),
            () => app.inject({ method: 'POST', url: `/api/v1/rooms/outage-${mode}/tokens`, payload: {} }),
            () => {
              const body = multipart([{ name: 'o.txt', content: Buffer.from('outage bytes') }]);
              return app.inject({
                method: 'POST',
                url: `/api/v1/rooms/outage-${mode}/contents`,
                headers: { ...auth, ...body.headers },
                payload: body.payload,
              });
            },
            () =>
              app.inject({
                method: 'GET',
                url: `/api/v1/rooms/fresh-${Math.random().toString(36).slice(2, 8)}`,
              }),
          ];

          const worker = async (w: number) => {
            for (let i = w; running; i++) {
              const at = phase;
              const res = await requests[i % requests.length]!();
              seen[at].set(res.statusCode, (seen[at].get(res.statusCode) ?? 0) + 1);
              if (res.statusCode >= 500 && res.statusCode !== 503)
                bad.push(`${res.statusCode} ${res.body.slice(0, 200)}`);
              if (res.statusCode >= 400) {
                const envelope = ErrorEnvelope.safeParse(JSON.parse(res.body));
                if (!envelope.success) bad.push(`no envelope: ${res.body.slice(0, 200)}`);
              }
              await new Promise((r) => setTimeout(r, 5));
            }
          };
          const workers = Array.from({ length: 4 }, (_, w) => worker(w));

          await new Promise((r) => setTimeout(r, 400));
          phase = 'outage';
          pg.stop(mode);
          await new Promise((r) => setTimeout(r, 1500));
          const health = await app.inject({ url: '/api/v1/health' });
          expect(health.statusCode).toBe(503);
          pg.start();
          // Recovery: the pool reconnects on its own.
          const deadline = Date.now() + 20_000;
          while ((await app.inject({ url: '/api/v1/health' })).statusCode !== 200) {
            if (Date.now() > deadline) throw new Error('no recovery within 20 s');
            await new Promise((r) => setTimeout(r, 200));
          }
          phase = 'after';
          await new Promise((r) => setTimeout(r, 800));
          running = false;
          await Promise.all(workers);

          expect(bad, bad.join('\n')).toEqual([]);
          expect(seen.outage.get(503) ?? 0, JSON.stringify([...seen.outage])).toBeGreaterThan(0);
          // After recovery nothing fails any more.
          for (const status of seen.after.keys())
            expect(status, JSON.stringify([...seen.after])).toBeLessThan(400);
          expect(seen.after.size).toBeGreaterThan(0);

          await app.lifecycle.runPass();
          const database = await createDatabase(t.config.database);
          try {
            await expectConsistent(database.db, t.config.storage.root);
          } finally {
            await database.close();
          }
        },
      );
  },
);
