/**
 * Issue 19: a share link's download slot held by a transfer when the server dies (kill -9) used
 * to stay held forever (`share_links.downloads_pending` was only given back when the response
 * ended), so a one-download link answered 409 "last downloads under way" for good. A held slot
 * is a lease now: a transfer under way renews it, and once it lapses the next download (on any
 * instance) takes the slot back.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import { expect, it } from 'vitest';

import { describeEachDatabase } from '../support/db.js';
import { spawnServer, useCrashFixture } from './spawned-server.js';

const MiB = 1024 * 1024;
const LEASE_SECONDS = 2;

/** Starts a GET and stops reading after the first bytes, so the response stays under way. */
function stalledDownload(url: string): Promise<{ status: number; received: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      res.once('data', (chunk: Buffer) => {
        res.pause();
        resolve({ status: res.statusCode ?? 0, received: chunk.length });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => reject(error));
    req.end();
  });
}

describeEachDatabase('kill -9 during a share-link download', (engine) => {
  const f = useCrashFixture(engine, 'elz-crash-link', {
    ROOM_SHARE_LINK_DOWNLOAD_LEASE_SECONDS: String(LEASE_SECONDS),
  });

  it('the slot of the killed transfer comes back after the lease; the download then works once', async () => {
    let server = (f.server = await spawnServer(f.env));
    let api = `${server.url}/api/v1`;
    const json = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await json('/rooms/crash-link', { max_size: 256 * MiB })).status).toBe(201);
    const manager = (await json('/rooms/crash-link/tokens', {})).body.token as string;
    const content = randomBytes(48 * MiB);
    const form = new FormData();
    form.append('file', new Blob([content]), 'big.bin');
    const up = await fetch(`${api}/rooms/crash-link/contents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager}` },
      body: form,
    });
    expect(up.status).toBe(201);
    const fileId = ((await up.json()) as { uploaded: Array<{ id: number }> }).uploaded[0]!.id;
    const link = await json(
      '/rooms/crash-link/share-links',
      { permission: 1, content_ids: [fileId], max_downloads: 1 },
      manager,
    );
    expect(link.status).toBe(201);
    const opened = await json('/share-links/open', { secret: link.body.secret });
    expect(opened.status).toBe(200);
    const visitor = opened.body.token as string;
    const fileUrl = () => `${api}/contents/${fileId}?token=${visitor}`;

    const stalled = await stalledDownload(fileUrl());
    expect(stalled.status).toBe(200);
    // The slot is held: a second download waits for it.
    expect((await fetch(fileUrl())).status).toBe(409);
    await server.kill();

    server = f.server = await spawnServer(f.env, server.port);
    api = `${server.url}/api/v1`;
    // Within a few lease periods of the restart the slot is free again (it never was before).
    const deadline = Date.now() + 30_000;
    let status = 0;
    let body = Buffer.alloc(0);
    while (Date.now() < deadline) {
      const res = await fetch(fileUrl());
      status = res.status;
      body = Buffer.from(await res.arrayBuffer());
      if (status !== 409) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect(body.equals(content)).toBe(true);
    // That download was the one the link allows.
    await expect.poll(async () => (await fetch(fileUrl())).status, { timeout: 10_000 }).toBe(410);
  }, 180_000);
});
