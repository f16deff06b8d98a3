import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  browserAvailability,
  browserSuite,
  ensureRoom,
  tempFiles,
  writeRandomFile,
} from './support/harness.js';

const KiB = 1024;

/**
 * Who said what (issue 17): two people in two browser contexts name themselves, each sees the
 * other's name on messages and in the presence list, a rename shows up live on earlier
 * messages, and one person's upload in progress is shown to the other with its progress.
 */
describeWithService(
  'Chromium + built web app',
  browserAvailability(),
  'display names in a real browser',
  () => {
    // Small tus chunks, so an upload is several PATCHes the test can slow down.
    const suite = browserSuite({ UPLOAD_CHUNK_SIZE: String(64 * KiB) });
    let files: ReturnType<typeof tempFiles>;
    beforeAll(() => {
      files = tempFiles();
    });
    afterAll(() => files?.remove());

    async function open(page: Page, room: string) {
      await page.goto(`${suite.server.url}/${encodeURIComponent(room)}`);
      await page.getByTestId('room-workspace').waitFor();
      await page.getByTestId('display-name-save').waitFor();
    }

    async function setName(page: Page, name: string) {
      await page.getByTestId('display-name-input').fill(name);
      await page.getByTestId('display-name-save').click();
      await expect.poll(() => page.getByTestId('display-name-save').isDisabled()).toBe(true);
    }

    async function send(page: Page, text: string) {
      await page.locator('#composer-input').fill(text);
      await page.getByTestId('composer-send').click();
      await page.getByText(text, { exact: true }).first().waitFor();
    }

    const presence = (page: Page) => page.getByTestId('presence-member').allTextContents();

    it(
      'each sees the other by name on messages and in presence, renames live, and uploads in progress',
      { timeout: 120_000 },
      async () => {
        const room = 'names-e2e';
        await ensureRoom(suite.server.url, room);
        const alice = await suite.newPage();
        const bob = await suite.newPage();
        await open(alice, room);
        await open(bob, room);

        // Refused names say why, and cannot be saved.
        await alice.getByTestId('display-name-input').fill('evil\u202Ename');
        expect(await alice.getByTestId('display-name-save').isDisabled()).toBe(true);
        await alice.getByText('Control and text-direction characters are not allowed').waitFor();

        await setName(alice, 'Alice');
        await setName(bob, 'Bob');
        // Presence lists both by name, each marking themselves "(you)".
        await expect.poll(() => presence(alice)).toEqual(['Alice(you)', 'Bob']);
        await expect.poll(() => presence(bob)).toEqual(['Alice', 'Bob(you)']);

        await send(alice, 'hello from alice');
        await send(bob, 'hello from bob');
        const authorOf = (page: Page, text: string) =>
          page
            .locator('article', { hasText: text })
            .getByTestId('message-author')
            .textContent({ timeout: 10_000 });
        for (const page of [alice, bob]) {
          expect(await authorOf(page, 'hello from alice')).toBe('Alice');
          expect(await authorOf(page, 'hello from bob')).toBe('Bob');
        }

        // Bob renames: Alice sees the new name on his earlier message and in presence, live.
        await setName(bob, 'Robert');
        await expect.poll(() => authorOf(alice, 'hello from bob')).toBe('Robert');
        await expect.poll(() => presence(alice)).toContain('Robert');

        // Bob uploads through the page, each tus PATCH held back: Alice watches it grow.
        let patches = 0;
        await bob.route('**/uploads/*', async (route) => {
          if (route.request().method() === 'PATCH') {
            patches += 1;
            await new Promise((resolve) => setTimeout(resolve, 600));
          }
          await route.continue();
        });
        const file = writeRandomFile(files.dir, 'holiday-video.bin', 512 * KiB);
        await bob.getByTestId('file-input').setInputFiles(file.path);
        const row = alice.getByTestId('others-upload');
        await row.waitFor({ timeout: 15_000 });
        expect(await row.textContent()).toContain('holiday-video.bin');
        expect(await row.getByTestId('others-upload-author').textContent()).toContain('Robert');
        expect(await row.textContent()).toContain('512 KB');
        // The bar moves past the start before the upload ends.
        await expect
          .poll(async () => Number(await row.getByRole('progressbar').getAttribute('aria-valuenow')), {
            timeout: 15_000,
          })
          .toBeGreaterThan(0);
        // Bob does not see his own upload in the others' list.
        expect(await bob.getByTestId('others-upload').count()).toBe(0);
        // Finished: the row goes and the file is there, by Robert.
        await alice.getByTestId('others-upload').waitFor({ state: 'detached', timeout: 30_000 });
        await alice.getByTestId('file-list').getByText('holiday-video.bin').first().waitFor();
        expect(patches).toBeGreaterThan(1);
      },
    );
  },
);
