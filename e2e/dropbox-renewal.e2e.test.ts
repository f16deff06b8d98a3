/**
 * A drop-box page left open longer than an access token lives: its uploads and messages renew
 * the token with the link session's refresh token instead of failing. Access tokens live 6 s here
 * (the shortest the server issues) with no leeway, so the page's first token has expired when the
 * visitor comes back 7 s later.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  apiContents,
  apiDownloadSha256,
  apiSession,
  browserAvailability,
  browserSuite,
  ensureRoom,
  sha256,
  tempFiles,
} from './support/harness.js';

describeWithService('Chromium + built web app', browserAvailability(), 'a drop box left open', () => {
  const suite = browserSuite({ JWT_TTL_SECONDS: '6', JWT_LEEWAY_SECONDS: '0' });
  let files: ReturnType<typeof tempFiles>;
  beforeAll(() => {
    files = tempFiles();
  });
  afterAll(() => files?.remove());

  /** The item of the page's "Sent" list is done, and says nothing failed. */
  async function expectSent(page: Page, text: string): Promise<void> {
    const item = page.getByTestId('dropbox-sent-item').filter({ hasText: text });
    await expect
      .poll(async () => `${await item.getAttribute('data-done')} ${await item.innerText()}`, {
        timeout: 15_000,
      })
      .toMatch(/^true /);
    expect(await item.innerText()).not.toContain('failed');
  }

  it('uploads and posts after its first access token expired', async () => {
    const room = 'e2e-dropbox-left-open';
    await ensureRoom(suite.server.url, room);
    // The manager's token expires too: each check below takes a fresh one.
    const created = await fetch(`${suite.server.url}/api/v1/rooms/${room}/share-links`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${await apiSession(suite.server.url, room)}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ permission: 2 }),
    });
    expect(created.status).toBe(201);
    const visitor = await suite.newPage();
    await visitor.goto(`${suite.server.url}${((await created.json()) as { path: string }).path}`);
    await visitor.getByTestId('dropbox').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 7_000));

    const bytes = randomBytes(64 * 1024);
    const path = join(files.dir, 'after-a-break.bin');
    writeFileSync(path, bytes);
    await visitor.getByTestId('dropbox-input').setInputFiles(path);
    await expectSent(visitor, 'after-a-break.bin');

    await new Promise((resolve) => setTimeout(resolve, 7_000));
    await visitor.getByTestId('dropbox-message').fill('back again');
    await visitor.getByTestId('dropbox-send').click();
    await expectSent(visitor, 'back again');

    const token = await apiSession(suite.server.url, room);
    const contents = await apiContents(suite.server.url, room, token);
    const file = contents.find((c) => c.file_name === 'after-a-break.bin');
    expect(await apiDownloadSha256(suite.server.url, file!.id, token)).toEqual({
      sha256: sha256(bytes),
      size: bytes.length,
    });
    const messages = await fetch(`${suite.server.url}/api/v1/rooms/${room}/messages`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await messages.text()).toContain('"back again"');
  }, 60_000);
});
