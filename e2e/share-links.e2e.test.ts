import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  apiContents,
  apiDownloadSha256,
  apiSession,
  apiUpload as harnessUpload,
  browserAvailability,
  browserSuite,
  ensureRoom,
  PHONE,
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

    const apiUpload = (room: string, token: string, name: string, bytes: Buffer) =>
      harnessUpload(suite.server.url, room, token, name, bytes);

    /** A second context opens a file link and downloads its file once; returns its page. */
    async function downloadOnce(url: string, name: string, bytes: Buffer): Promise<Page> {
      const visitor = await suite.newPage();
      await visitor.goto(url);
      await visitor.getByTestId('shared-files').waitFor();
      const [download] = await Promise.all([
        visitor.waitForEvent('download'),
        visitor.getByTestId('shared-file-download').click(),
      ]);
      const saved = join(files.dir, name);
      await download.saveAs(saved);
      expect(sha256(readFileSync(saved))).toBe(sha256(bytes));
      return visitor;
    }

    /** After a reload the link page says the file was already downloaded. */
    async function expectAlreadyDownloaded(visitor: Page): Promise<void> {
      await visitor.reload();
      const gone = visitor.getByTestId('share-link-gone');
      await gone.waitFor();
      expect(await gone.getAttribute('data-reason')).toBe('downloads_exhausted');
      expect(await gone.innerText()).toContain('already downloaded');
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
      await apiUpload(room, token, 'once.txt', bytes);
      const [file] = await apiContents(suite.server.url, room, token);
      const created = await fetch(`${suite.server.url}/api/v1/rooms/${room}/share-links`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ permission: 1, content_ids: [file!.id], max_downloads: 1 }),
      });
      expect(created.status).toBe(201);
      const { path } = (await created.json()) as { path: string };

      const visitor = await downloadOnce(`${suite.server.url}${path}`, 'once.txt', bytes);
      await expectAlreadyDownloaded(visitor);
    });

    /** A share link made through the API by a session of `room`; its page's address. */
    async function apiLink(room: string, token: string, body: Record<string, unknown>): Promise<string> {
      const created = await fetch(`${suite.server.url}/api/v1/rooms/${room}/share-links`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(created.status).toBe(201);
      return `${suite.server.url}${((await created.json()) as { path: string }).path}`;
    }

    it('phone: a shared file keeps its extension in view; the drop box says "optional" once', async () => {
      const room = 'e2e-link-phone';
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      const name = `minutes-of-the-annual-general-meeting-${'z'.repeat(40)}.pdf`;
      await apiUpload(room, token, name, Buffer.from('%PDF-1.4 minutes'));
      const [file] = await apiContents(suite.server.url, room, token);
      const fileLink = await apiLink(room, token, { permission: 1, content_ids: [file!.id] });
      const visitor = await suite.newPage({ viewport: PHONE });
      await visitor.goto(fileLink);
      const shared = visitor.getByTestId('shared-files');
      await shared.waitFor();
      const extension = shared.getByTestId('file-name-extension');
      expect(await extension.textContent()).toBe('.pdf');
      const box = (await extension.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);

      await visitor.goto(await apiLink(room, token, { permission: 2 }));
      await visitor.getByTestId('dropbox').waitFor();
      const label = await visitor.locator('label[for="dropbox-message"]').innerText();
      expect(label.match(/optional/gi)).toHaveLength(1);

      // A drop box into a full room says why the upload failed, not only that it did.
      const full = 'e2e-link-full';
      const made = await fetch(`${suite.server.url}/api/v1/rooms/${full}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ max_size: 1024 }),
      });
      expect(made.status).toBe(201);
      const fullToken = await apiSession(suite.server.url, full);
      await visitor.goto(await apiLink(full, fullToken, { permission: 2 }));
      await visitor.getByTestId('dropbox').waitFor();
      const big = join(files.dir, 'too-big-for-the-room.bin');
      writeFileSync(big, Buffer.alloc(4096, 1));
      await visitor.getByTestId('dropbox-input').setInputFiles(big);
      await expect
        .poll(() => sentItems(visitor).filter({ hasText: 'too-big-for-the-room.bin' }).innerText())
        .toContain('Not enough space left in this room.');
    });

    it('a drop box sends files with tus: a connection cut mid-file is retried and the file arrives whole', async () => {
      const room = 'e2e-dropbox-resume';
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      const visitor = await suite.newPage();
      await visitor.goto(await apiLink(room, token, { permission: 2 }));
      await visitor.getByTestId('dropbox').waitFor();
      // The first PATCH loses its connection, as on a phone changing networks.
      let cut = 0;
      let patches = 0;
      await visitor.route('**/api/v1/rooms/*/uploads/*', async (route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        patches += 1;
        if (cut === 0) {
          cut += 1;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      const bytes = randomBytes(300 * 1024);
      const path = join(files.dir, 'holiday.mov');
      writeFileSync(path, bytes);
      await visitor.getByTestId('dropbox-input').setInputFiles(path);
      await expect
        .poll(() => sentItems(visitor).filter({ hasText: 'holiday.mov' }).getAttribute('data-done'), {
          timeout: 20_000,
        })
        .toBe('true');
      expect(cut).toBe(1);
      expect(patches).toBeGreaterThanOrEqual(2);
      const [stored] = await apiContents(suite.server.url, room, token);
      expect(stored!.file_name).toBe('holiday.mov');
      expect(await apiDownloadSha256(suite.server.url, stored!.id, token)).toEqual({
        sha256: sha256(bytes),
        size: bytes.length,
      });
    });

    it('a password-protected link: a wrong password shows an error, the right one enters', async () => {
      const room = 'e2e-link-password';
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      const url = await apiLink(room, token, { permission: 1 | 2, password: 'open-sesame' });

      const visitor = await suite.newPage();
      await visitor.goto(url);
      const input = visitor.getByTestId('share-link-password');
      await input.fill('not-it');
      await visitor.getByRole('button', { name: 'Open', exact: true }).click();
      const error = visitor.getByRole('alert').filter({ hasText: 'That password is not correct.' });
      await error.waitFor();
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      expect(await visitor.getByTestId('room-workspace').count()).toBe(0);

      await input.fill('open-sesame');
      await visitor.getByRole('button', { name: 'Open', exact: true }).click();
      await visitor.getByTestId('room-workspace').waitFor();
      expect(new URL(visitor.url()).pathname).toBe(`/${room}`);
    });

    it('a file link from the settings panel: one download with burn after reading, then "already downloaded" and the file leaves the list live', async () => {
      const room = 'e2e-panel-file-link';
      const manager = await suite.newPage();
      await enterRoom(manager, room);
      const token = await apiSession(suite.server.url, room);
      const bytes = Buffer.from('read me once, then burn');
      await apiUpload(room, token, 'burn-me.txt', bytes);
      const fileRow = manager.locator('[data-testid^="file-item-"]').filter({ hasText: 'burn-me.txt' });
      await fileRow.waitFor({ timeout: 10_000 });

      const section = manager.getByTestId('share-links-section');
      const fileSelect = section.getByTestId('share-link-file');
      await expect
        .poll(async () => (await fileSelect.locator('option').allInnerTexts()).join('|'), { timeout: 10_000 })
        .toContain('burn-me.txt');
      await fileSelect.selectOption({ label: 'burn-me.txt' });
      await section.getByTestId('share-link-max-downloads').fill('1');
      await section.getByTestId('share-link-burn').check();
      await section.getByTestId('share-link-create').click();
      const urlInput = section.getByTestId('share-link-url').first();
      await expect.poll(() => urlInput.inputValue(), { timeout: 10_000 }).toMatch(/\?s=/);
      const url = await urlInput.inputValue();
      const links = (await (
        await fetch(`${suite.server.url}/api/v1/rooms/${room}/share-links`, {
          headers: { Authorization: `Bearer ${token}` },
        })
      ).json()) as Array<{ max_downloads: number; burn_after_reading: boolean; content_ids: number[] }>;
      expect(links[0]).toMatchObject({ max_downloads: 1, burn_after_reading: true });

      const visitor = await downloadOnce(url, 'burn-me.txt', bytes);

      // Burnt: gone from the manager's list without a reload, and from the room.
      await expect.poll(() => fileRow.count(), { timeout: 10_000 }).toBe(0);
      expect((await apiContents(suite.server.url, room, token)).map((c) => c.id)).not.toContain(
        links[0]!.content_ids[0],
      );
      await expectAlreadyDownloaded(visitor);
    });

    it('a file dropped onto the drop-box page (a real drop event with a DataTransfer) is uploaded', async () => {
      const room = 'e2e-dropbox-drag';
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      const url = await apiLink(room, token, { permission: 2 });
      const visitor = await suite.newPage();
      await visitor.goto(url);
      await visitor.getByTestId('dropbox').waitFor();
      const text = 'dragged and dropped 拖放';
      await visitor.getByTestId('dropbox-zone').evaluate((zone, content) => {
        // The DOM's own classes, typed here (the test files are compiled without the DOM library).
        const dom = globalThis as unknown as {
          DataTransfer: new () => { items: { add(file: unknown): void } };
          File: new (parts: string[], name: string, options: { type: string }) => unknown;
          DragEvent: new (type: string, init: object) => unknown;
        };
        const target = zone as unknown as { dispatchEvent(event: unknown): boolean };
        const data = new dom.DataTransfer();
        data.items.add(new dom.File([content], 'dragged.txt', { type: 'text/plain' }));
        const init = { dataTransfer: data, bubbles: true, cancelable: true };
        for (const type of ['dragenter', 'dragover', 'drop'])
          target.dispatchEvent(new dom.DragEvent(type, init));
      }, text);
      await expect
        .poll(() => sentItems(visitor).filter({ hasText: 'dragged.txt' }).getAttribute('data-done'), {
          timeout: 20_000,
        })
        .toBe('true');
      const stored = (await apiContents(suite.server.url, room, token)).find(
        (c) => c.file_name === 'dragged.txt',
      );
      expect(stored).toBeDefined();
      const got = await fetch(`${suite.server.url}/api/v1/contents/${stored!.id}?token=${token}`);
      expect(Buffer.from(await got.arrayBuffer()).toString()).toBe(text);
    });
  },
);
