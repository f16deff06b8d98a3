import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  browserSuite,
  collectErrors,
  standaloneAvailability,
  startStandaloneServer,
  type StandaloneServer,
} from './support/harness.js';

describeWithService(
  'Chromium + standalone web build',
  standaloneAvailability(),
  'the standalone web server (port 4001 mode) in a real browser',
  () => {
    const suite = browserSuite(); // the real API server (the backend) and Chromium
    let web: StandaloneServer;
    beforeAll(async () => {
      web = await startStandaloneServer(suite.server.url);
    });
    afterAll(() => web?.close());

    /** A page that talks only to the standalone server: any request to the backend's port is a failure. */
    async function newPage(): Promise<{ page: Page; errors: string[]; strays: string[] }> {
      const page = await suite.newPage();
      const errors = collectErrors(page);
      const strays: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(web.url) && !r.url().startsWith(web.url.replace('http', 'ws'))) {
          if (!r.url().startsWith('blob:') && !r.url().startsWith('data:')) strays.push(r.url());
        }
      });
      return { page, errors, strays };
    }

    it('serves the app with a CSP and runs the core flow: create, post, a second session sees it live', async () => {
      const home = await fetch(web.url);
      expect(home.status).toBe(200);
      const csp = home.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+/);
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);

      const alice = await newPage();
      await alice.page.goto(web.url);
      await alice.page.getByTestId('create-room-name').fill('standalone-room');
      await alice.page.getByTestId('create-room-submit').click();
      await alice.page.waitForURL(`${web.url}/standalone-room`);
      await alice.page.getByTestId('room-workspace').waitFor();

      const bob = await newPage();
      const bobSocket = new Promise<{ url: string; frames: string[] }>((resolve) => {
        bob.page.on('websocket', (ws) => {
          const frames: string[] = [];
          ws.on('framereceived', ({ payload }) => {
            frames.push(typeof payload === 'string' ? payload : payload.toString('utf8'));
            if (frames.at(-1)!.includes('"connect_ack"')) resolve({ url: ws.url(), frames });
          });
        });
      });
      await bob.page.goto(`${web.url}/standalone-room`);
      await bob.page.getByTestId('room-workspace').waitFor();
      const socket = await bobSocket;
      expect(socket.url).toBe(`${web.url.replace('http', 'ws')}/api/v1/ws`);

      const text = `through port 4001 ${Date.now()}`;
      await alice.page.getByTestId('composer-input').fill(text);
      await alice.page.getByTestId('composer-send').click();
      await expect
        .poll(() => bob.page.getByTestId('message-list').textContent(), { timeout: 10_000 })
        .toContain(text);
      expect(socket.frames.some((f) => f.includes('"content_created"') && f.includes(text))).toBe(true);

      for (const side of [alice, bob]) {
        expect(side.errors).toEqual([]);
        expect(side.strays).toEqual([]);
      }
    });

    it('answers 503 with the error envelope when the backend is gone', async () => {
      const orphan = await startStandaloneServer('http://127.0.0.1:9');
      try {
        const response = await fetch(`${orphan.url}/api/v1/config`);
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({
          error: { code: 'SERVICE_UNAVAILABLE', status: 503 },
        });
      } finally {
        await orphan.close();
      }
    });
  },
);
