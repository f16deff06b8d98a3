import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  apiContents,
  apiSession,
  browserAvailability,
  browserSuite,
  ensureRoom,
  sha256,
  tempFiles,
} from './support/harness.js';

describeWithService(
  'Chromium + built web app',
  browserAvailability(),
  'share links in a real browser',
  () => {
    const suite = browserSuite();
    let files: ReturnType<typeof tempFiles>;
    beforeAll(() => {
      files = tempFiles();
    });
    afterAll(() => files?.remove());

    async function enterRoom(page: Page, room: string): Promise<void> {
      await ensureRoom(suite.server.url, room);
      await page.goto(`${suite.server.url}/${encodeURIComponent(room)}`);
      await page.getByTestId('room-workspace').waitFor();
    }

    function sentItems(page: Page) {
      return page.getByTestId('dropbox-sent-item');
    }

    async function dropFile(page: Page, name: string, text: string): Promise<void> {
      const path = join(files.dir, name);
      writeFileSync(path, text);
      await page.getByTestId('dropbox-input').setInputFiles(path);
      await expect
        .poll(() => sentItems(page).filter({ hasText: name }).getAttribute('data-done'), { timeout: 20_000 })
        .toBe('true');
    }

    it('a drop-box link: visitors upload through it and see only what they sent; the manager sees it live', async () => {
      const room = 'e2e-dropbox';
      const manager = await suite.newPage();
      await enterRoom(manager, room);
      const section = manager.getByTestId('share-links-section');
      await section.getByTestId('share-link-view').uncheck();
      await section.getByTestId('share-link-edit').check();
      await section.getByTestId('share-link-create').click();
      const urlInput = section.getByTestId('share-link-url').first();
      await expect.poll(() => urlInput.inputValue(), { timeout: 10_000 }).toMatch(/\?s=/);
      const url = await urlInput.inputValue();

      const alice = await suite.newPage();
      await alice.goto(url);
      await alice.getByTestId('dropbox').waitFor();
      const bob = await suite.newPage();
      await bob.goto(url);
      await bob.getByTestId('dropbox').waitFor();

      await dropFile(alice, 'from-alice.txt', 'alice was here');
      await dropFile(bob, 'from-bob.txt', 'bob was here');
      await alice.getByTestId('dropbox-message').fill('a note from alice');
      await alice.getByTestId('dropbox-send').click();
      await expect
        .poll(() => sentItems(alice).filter({ hasText: 'a note from alice' }).getAttribute('data-done'))
        .toBe('true');

      // Each visitor's list is its own.
      expect(await sentItems(alice).allInnerTexts()).toHaveLength(2);
      expect((await sentItems(alice).allInnerTexts()).join(' ')).not.toContain('from-bob');
      expect((await sentItems(bob).allInnerTexts()).join(' ')).not.toContain('from-alice');

      // The manager sees both files arrive without reloading.
      for (const name of ['from-alice.txt', 'from-bob.txt']) {
        await manager
          .locator('[data-testid^="file-item-"]')
          .filter({ hasText: name })
          .waitFor({ timeout: 10_000 });
      }
      // The manager's list counts the two openings.
      await expect.poll(() => section.getByTestId('share-link-uses').first().innerText()).toContain('2');

      // After a reload the visitor sees nothing of what was sent (not even its own).
      await alice.reload();
      await alice.getByTestId('dropbox').waitFor();
      expect(await sentItems(alice).count()).toBe(0);
      expect(await alice.content()).not.toContain('from-bob');
    });

    it('a one-download file link works once, then shows "already downloaded"', async () => {
      const room = 'e2e-one-download';
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      const bytes = Buffer.from('only once, then gone');
      const form = new FormData();
      form.append('file', new Blob([bytes]), 'once.txt');
      const up = await fetch(`${suite.server.url}/api/v1/rooms/${room}/contents`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
      expect(up.status).toBe(201);
      const [file] = await apiContents(suite.server.url, room, token);
      const created = await fetch(`${suite.server.url}/api/v1/rooms/${room}/share-links`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ permission: 1, content_ids: [file!.id], max_downloads: 1 }),
      });
      expect(created.status).toBe(201);
      const { path } = (await created.json()) as { path: string };

      const visitor = await suite.newPage();
      await visitor.goto(`${suite.server.url}${path}`);
      await visitor.getByTestId('shared-files').waitFor();
      const [download] = await Promise.all([
        visitor.waitForEvent('download'),
        visitor.getByTestId('shared-file-download').click(),
      ]);
      const saved = join(files.dir, 'once.txt');
      await download.saveAs(saved);
      expect(sha256(readFileSync(saved))).toBe(sha256(bytes));

      await visitor.reload();
      const gone = visitor.getByTestId('share-link-gone');
      await gone.waitFor();
      expect(await gone.getAttribute('data-reason')).toBe('downloads_exhausted');
      expect(await gone.innerText()).toContain('already downloaded');
    });
  },
);
