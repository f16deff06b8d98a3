import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  apiContents,
  apiSession,
  browserAvailability,
  roomSuite,
  ensureRoom,
  fileItem,
  makePng,
  PHONE,
  postMessage,
  screenshotPath,
} from './support/harness.js';

/** DOM shapes read in `evaluate` (the test files are compiled without the DOM library). */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const CLIPBOARD = ['clipboard-read', 'clipboard-write'];

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describeWithService(
  'Chromium + built web app',
  browserAvailability(),
  'web app polish in a real browser',
  () => {
    const suite = roomSuite();
    const { newPage, enterRoom } = suite;
    const post = postMessage;

    function bubble(page: Page, text: string) {
      return page.locator('article[data-testid^="message-"]').filter({ hasText: text });
    }

    // ---- Chinese ------------------------------------------------------------------------------

    it('Chinese: the countdown uses Chinese units, counts use plural rules, the invalid-address page is Chinese', async () => {
      const page = await newPage({ locale: 'zh-CN' });
      await enterRoom(page, 'e2e-zh-units');
      const expiry = await page.getByTestId('room-expiry').textContent();
      expect(expiry).toMatch(/(天|小时|分钟|秒)/);
      expect(expiry).not.toMatch(/\d+\s*[dhms]\b/);
      await post(page, '一条消息');
      await expect.poll(() => page.getByTestId('messages-selection-count').textContent()).toBe('1 条消息');

      await page.goto(`${suite.server.url}/e2e-zh-units/nested`);
      const blocked = page.getByTestId('room-blocked-invalid');
      await blocked.waitFor();
      await expect.poll(() => blocked.textContent()).toContain('房间地址只有一段');
      expect(await blocked.textContent()).not.toContain('A room address');
    });

    it('English: counts are singular or plural, never "(s)"', async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-plurals');
      await post(page, 'only one');
      await expect.poll(() => page.getByTestId('messages-selection-count').textContent()).toBe('1 message');
      await post(page, 'and another');
      await expect.poll(() => page.getByTestId('messages-selection-count').textContent()).toBe('2 messages');
      expect(await page.locator('body').textContent()).not.toContain('(s)');
    });

    // ---- QR code ------------------------------------------------------------------------------

    it('QR code in dark mode: dark modules on white with a quiet zone, on screen and in the saved PNG', async () => {
      const page = await newPage({ colorScheme: 'dark' });
      await enterRoom(page, 'e2e-qr-dark');
      expect(await page.locator('html').getAttribute('class')).toContain('dark');
      await page.getByTestId('share-button').click();
      const qr = page.getByTestId('share-dialog').getByTestId('share-qr');
      await qr.waitFor();
      const analysis = await qr.evaluate(async (node) => {
        const img = node as unknown as {
          complete: boolean;
          naturalWidth: number;
          naturalHeight: number;
          decode(): Promise<void>;
        };
        await img.decode();
        const doc = (globalThis as unknown as { document: { createElement(tag: 'canvas'): unknown } })
          .document;
        const canvas = doc.createElement('canvas') as {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            drawImage(image: unknown, x: number, y: number): void;
            getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
          };
        };
        const size = img.naturalWidth;
        canvas.width = size;
        canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const { data } = context.getImageData(0, 0, size, size);
        const lum = (x: number, y: number) => data[(y * size + x) * 4]!;
        // Walk the diagonal to the top-left finder pattern, then measure its 7-module width.
        let start = 0;
        while (start < size && lum(start, start) > 128) start += 1;
        let end = start;
        while (end < size && lum(end, start) <= 128) end += 1;
        return {
          size,
          corner: lum(0, 0),
          centreDark: lum(start + 1, start + 1),
          quietZonePx: start,
          modulePx: (end - start) / 7,
        };
      });
      expect(analysis.corner).toBeGreaterThan(240); // light background
      expect(analysis.centreDark).toBeLessThan(40); // dark modules
      // The finder's outer ring is one module; the quiet zone is at least four modules wide.
      expect(analysis.quietZonePx).toBeGreaterThanOrEqual(4 * analysis.modulePx - 1);

      const src = await qr.getAttribute('src');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('share-dialog').getByTestId('share-download-qr').click(),
      ]);
      const saved = readFileSync(await download.path());
      expect(saved.equals(Buffer.from(src!.split(',')[1]!, 'base64'))).toBe(true);
      expect(saved.subarray(1, 4).toString()).toBe('PNG');
    });

    // ---- dialogs ------------------------------------------------------------------------------

    it('file preview is a dialog; its image flips and rotates both ways; "Copy link" opens the same file', async () => {
      const png = join(suite.filesDir, 'flip-me.png');
      writeFileSync(png, makePng(40, 20));
      const page = await newPage({ permissions: CLIPBOARD });
      await enterRoom(page, 'e2e-preview-polish');
      await page.getByTestId('file-input').setInputFiles([png]);
      const row = fileItem(page, 'flip-me.png');
      await row.getByTestId('file-open').click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.getAttribute('data-testid')).toBe('preview-dialog');
      const image = page.getByTestId('preview-image');
      await image.waitFor();
      const transform = () =>
        image.evaluate((node) => (node as unknown as { style: { transform: string } }).style.transform);
      await page.getByTestId('preview-flip-horizontal').click();
      expect(await transform()).toContain('scale(-1, 1)');
      await page.getByTestId('preview-flip-vertical').click();
      expect(await transform()).toContain('scale(-1, -1)');
      await page.getByTestId('preview-rotate-left').click();
      expect(await transform()).toContain('rotate(270deg)');
      await page.getByTestId('preview-rotate-right').click();
      expect(await transform()).toContain('rotate(0deg)');

      await page.getByTestId('preview-copy-link').click();
      const link = await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      );
      expect(link).toMatch(new RegExp(`^${suite.server.url}/e2e-preview-polish#file=\\d+$`));
      expect(link).not.toMatch(/token|api\/v1/);
      const other = await page.context().newPage();
      await other.goto(link);
      await other.getByTestId('preview-dialog').waitFor();
      expect(await other.getByTestId('preview-title').getAttribute('title')).toBe('flip-me.png');
    });

    it('help dialog lists the keyboard shortcuts; "?" opens it, Esc closes it', async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-help');
      await page.getByTestId('help-button').click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.getAttribute('data-testid')).toBe('help-dialog');
      const shortcuts = await page.getByTestId('help-shortcuts').textContent();
      for (const key of ['Ctrl/⌘', 'Enter', 'Z', 'Esc']) expect(shortcuts).toContain(key);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByTestId('help-dialog').count()).toBe(0);
      await page.locator('body').click({ position: { x: 700, y: 5 } });
      await page.keyboard.press('?');
      await page.getByTestId('help-dialog').waitFor();
      await page.keyboard.press('Escape');
      // Typing "?" in the composer is text, not the shortcut.
      await page.getByTestId('composer-input').fill('why');
      await page.getByTestId('composer-input').press('?');
      expect(await page.getByTestId('composer-input').inputValue()).toBe('why?');
      expect(await page.getByTestId('help-dialog').count()).toBe(0);
    });

    // ---- selection, export -----------------------------------------------------------------------

    it('inverts the message selection and exports the selected messages as Markdown', async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-invert');
      for (const text of ['alpha one', 'beta two', 'gamma three']) await post(page, text);
      await bubble(page, 'alpha one').getByTestId('message-checkbox').check();
      await page.getByTestId('messages-invert').click();
      expect(await bubble(page, 'alpha one').getByTestId('message-checkbox').isChecked()).toBe(false);
      expect(await bubble(page, 'beta two').getByTestId('message-checkbox').isChecked()).toBe(true);
      expect(await bubble(page, 'gamma three').getByTestId('message-checkbox').isChecked()).toBe(true);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('messages-export-selected').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^messages-\d{4}-\d{2}-\d{2}\.md$/);
      const markdown = readFileSync(await download.path(), 'utf8');
      expect(markdown).toContain('beta two');
      expect(markdown).toContain('gamma three');
      expect(markdown).not.toContain('alpha one');
      expect(markdown.indexOf('beta two')).toBeLessThan(markdown.indexOf('gamma three'));
    });

    it('inverts the file selection', async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-invert-files');
      const a = join(suite.filesDir, 'first.txt');
      const b = join(suite.filesDir, 'second.txt');
      writeFileSync(a, 'first');
      writeFileSync(b, 'second');
      await page.getByTestId('file-input').setInputFiles([a, b]);
      const row = (name: string) => fileItem(page, name);
      await row('first.txt').waitFor();
      await row('second.txt').waitFor();
      await row('first.txt').getByTestId('file-checkbox').check();
      await page.getByTestId('files-invert').click();
      expect(await row('first.txt').getByTestId('file-checkbox').isChecked()).toBe(false);
      expect(await row('second.txt').getByTestId('file-checkbox').isChecked()).toBe(true);
    });

    // ---- composer -----------------------------------------------------------------------------

    it('composer: headings from the toolbar, undo and redo (buttons and keys), no square focus ring', async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-composer-tools');
      const input = page.getByTestId('composer-input');
      await input.click();
      await input.pressSequentially('Title');
      await page.getByTestId('tool-h2').click();
      await expect.poll(() => input.inputValue()).toBe('## Title');
      await page.getByTestId('tool-h1').click();
      await expect.poll(() => input.inputValue()).toBe('# Title');
      await page.getByTestId('tool-undo').click();
      await expect.poll(() => input.inputValue()).toBe('## Title');
      await page.getByTestId('tool-undo').click();
      await expect.poll(() => input.inputValue()).toBe('Title');
      await page.getByTestId('tool-redo').click();
      await expect.poll(() => input.inputValue()).toBe('## Title');
      await input.press('Control+z');
      await expect.poll(() => input.inputValue()).toBe('Title');
      await input.press('Control+Shift+z');
      await expect.poll(() => input.inputValue()).toBe('## Title');

      // The focus ring follows the rounded box: the textarea itself draws no outline.
      await input.focus();
      const outline = await input.evaluate(
        (node) =>
          (
            globalThis as unknown as { getComputedStyle(n: unknown): { outlineStyle: string } }
          ).getComputedStyle(node).outlineStyle,
      );
      expect(outline).toBe('none');
    });

    // ---- messages -----------------------------------------------------------------------------

    it("message actions never cover a code block's Copy button nor sit above the list", async () => {
      const page = await newPage();
      await enterRoom(page, 'e2e-actions');
      await post(page, '```js\nconst answer = 42;\n```');
      const message = bubble(page, 'const answer');
      await message.hover();
      const actions = message.getByTestId('message-actions');
      await expect.poll(() => opacity(actions)).toBe('1');
      const actionsBox = (await actions.boundingBox())!;
      const copyBox = (await message.getByTestId('code-block').getByRole('button').boundingBox())!;
      expect(overlaps(actionsBox, copyBox)).toBe(false);
      const listBox = (await page.getByTestId('message-list').boundingBox())!;
      expect(actionsBox.y).toBeGreaterThanOrEqual(listBox.y);
      // The code block's Copy button is what a click there reaches.
      await message.getByTestId('code-block').getByRole('button').click();
      await expect.poll(() => page.getByTestId('toasts').textContent()).toMatch(/copied|Copied/);
    });

    it('the same toast twice shows once, and toasts stay clear of the Send button', async () => {
      const page = await newPage({ permissions: CLIPBOARD });
      await enterRoom(page, 'e2e-toasts');
      await post(page, 'copy me twice');
      const message = bubble(page, 'copy me twice');
      await message.hover();
      await message.getByTestId('message-copy').click();
      await message.hover();
      await message.getByTestId('message-copy').click();
      await page.getByTestId('toast').first().waitFor();
      await page.waitForTimeout(300);
      expect(await page.getByTestId('toast').count()).toBe(1);
      const toastBox = (await page.getByTestId('toast').boundingBox())!;
      for (const id of ['composer-send', 'upload-button']) {
        expect(overlaps(toastBox, (await page.getByTestId(id).boundingBox())!), id).toBe(false);
      }
    });

    /** Px between the message list's bottom and its scrolled-to position (0: at the bottom). */
    function distanceFromBottom(page: Page): Promise<number> {
      return page.getByTestId('message-list').evaluate((node) => {
        const el = node as unknown as { scrollHeight: number; scrollTop: number; clientHeight: number };
        return el.scrollHeight - el.scrollTop - el.clientHeight;
      });
    }

    /** A room with 30 two-line messages (taller than the list) and `tall.png`; its id. */
    async function roomWithTallImage(page: Page, room: string): Promise<number> {
      await ensureRoom(suite.server.url, room);
      const token = await apiSession(suite.server.url, room);
      for (let i = 0; i < 30; i += 1) {
        const posted = await fetch(`${suite.server.url}/api/v1/rooms/${room}/messages`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: `filler ${i}\n\nline two` }),
        });
        expect(posted.status).toBe(201);
      }
      const png = join(suite.filesDir, 'tall.png');
      writeFileSync(png, makePng(200, 400));
      await enterRoom(page, room);
      await page.getByTestId('file-input').setInputFiles([png]);
      await fileItem(page, 'tall.png').waitFor();
      return (await apiContents(suite.server.url, room, token)).find((c) => c.file_name === 'tall.png')!.id;
    }

    it('follows a newly sent image message to the bottom once the image has loaded', async () => {
      const page = await newPage();
      const id = await roomWithTallImage(page, 'e2e-image-scroll');
      // The list overflows and shows its bottom before the post.
      expect(
        await page
          .getByTestId('message-list')
          .evaluate((n) => (n as unknown as { scrollHeight: number; clientHeight: number }).scrollHeight),
      ).toBeGreaterThan(PHONE.height);
      await expect.poll(() => distanceFromBottom(page), { timeout: 10_000 }).toBeLessThan(4);
      // Three tall images: the message grows by far more than the list's "near the bottom" margin
      // once they have loaded, after the list had scrolled to the message's first height.
      await post(page, `look\n\n![a](/contents/${id})\n\n![b](/contents/${id})\n\n![c](/contents/${id})`);
      const images = page.getByTestId('message-list').locator('img');
      await expect
        .poll(
          () =>
            images.evaluateAll((nodes) =>
              nodes.every((n) => {
                const img = n as unknown as { complete: boolean; naturalHeight: number };
                return img.complete && img.naturalHeight > 0;
              })
                ? nodes.length
                : 0,
            ),
          { timeout: 30_000 },
        )
        .toBe(3);
      await expect.poll(() => distanceFromBottom(page), { timeout: 10_000 }).toBeLessThan(4);
      expect(await page.getByTestId('jump-to-latest').count()).toBe(0);
    });

    it('keeps following when an image has no height and then its height before the list hears of it; the reader scrolling up leaves', async () => {
      const page = await newPage();
      const id = await roomWithTallImage(page, 'e2e-image-race');
      await post(page, `one image\n\n![a](/contents/${id})`);
      const image = page.getByTestId('message-list').locator('img');
      await expect
        .poll(() => image.evaluate((n) => (n as unknown as { naturalHeight: number }).naturalHeight), {
          timeout: 30_000,
        })
        .toBeGreaterThan(0);
      await expect.poll(() => distanceFromBottom(page), { timeout: 10_000 }).toBeLessThan(4);
      // What a loaded machine does by chance, made certain: the image is laid out with no height
      // (the browser pulls the scroll position up to the new bottom), then with its real height,
      // both before the list's next scroll event. That event is no reader scrolling up. Without
      // scroll anchoring (Safari has none; Chromium anchors to a node above the image in other
      // layouts) nothing else puts the view back at the bottom.
      await page.getByTestId('message-list').evaluate((node) => {
        (node as unknown as { style: { overflowAnchor: string } }).style.overflowAnchor = 'none';
      });
      await image.evaluate(
        (node) =>
          new Promise<void>((done) => {
            const img = node as unknown as { style: { height: string; maxHeight: string } };
            const g = globalThis as unknown as {
              requestAnimationFrame(f: () => void): void;
              setTimeout(f: () => void, ms: number): void;
            };
            g.requestAnimationFrame(() => {
              // Laid out in this frame with no height: the scroll position is clamped, and the
              // scroll event for that waits for the next frame…
              img.style.maxHeight = 'none';
              img.style.height = '0px';
              // …by when the image has its real height.
              g.setTimeout(() => {
                img.style.height = '600px';
                done();
              }, 0);
            });
          }),
      );
      await expect.poll(() => distanceFromBottom(page), { timeout: 5_000 }).toBeLessThan(4);
      expect(await page.getByTestId('jump-to-latest').count()).toBe(0);

      // The reader's own scrolling up still leaves the bottom, and the list stays where they are.
      await page.getByTestId('message-list').hover();
      await page.mouse.wheel(0, -500);
      await page.getByTestId('jump-to-latest').waitFor();
      await page.waitForTimeout(300);
      expect(await distanceFromBottom(page)).toBeGreaterThan(200);
    });

    it('says in words when the live connection is down (desktop)', async () => {
      const page = await newPage();
      await page.routeWebSocket(/\/api\/v1\/ws/, (ws) => ws.close());
      await ensureRoom(suite.server.url, 'e2e-offline');
      await page.goto(`${suite.server.url}/e2e-offline`);
      await page.getByTestId('room-workspace').waitFor();
      const label = page.getByTestId('room-connection-label');
      await label.waitFor();
      expect(await label.isVisible()).toBe(true);
      expect(await label.textContent()).toMatch(/Connecting|Reconnecting|Offline/);
    });

    // ---- phone --------------------------------------------------------------------------------

    it('phone: the create form is above the fold and a room name is not cut short', async () => {
      const page = await newPage({ viewport: PHONE });
      await page.goto(suite.server.url);
      const submit = (await page.getByTestId('create-room-submit').boundingBox())!;
      expect(submit.y + submit.height).toBeLessThanOrEqual(PHONE.height);

      await enterRoom(page, 'e2e-phone-garden');
      await page.screenshot({ path: screenshotPath('polish-phone-topbar') });
      const name = page.getByTestId('room-name').locator('span').first();
      const fits = await name.evaluate((node) => {
        const el = node as unknown as { scrollWidth: number; clientWidth: number };
        return el.scrollWidth <= el.clientWidth;
      });
      expect(fits).toBe(true);
    });

    it('phone: a long file name is cut in its middle: the extension stays in view, and is read once, whole', async () => {
      const page = await newPage({ viewport: PHONE });
      await enterRoom(page, 'e2e-phone-long-name');
      const name = `quarterly-report-with-a-name-far-too-long-for-a-phone-${'x'.repeat(60)}.tar.gz`;
      const path = join(suite.filesDir, name);
      writeFileSync(path, 'archive');
      await page.getByTestId('mobile-tab-files').click();
      await page.getByTestId('file-input').setInputFiles(path);
      const row = fileItem(page, name);
      await row.waitFor();
      await page.screenshot({ path: screenshotPath('polish-phone-long-file-name') });
      const extension = row.getByTestId('file-name-extension');
      expect(await extension.textContent()).toBe('.tar.gz');
      const rowBox = (await row.boundingBox())!;
      const extensionBox = (await extension.boundingBox())!;
      expect(extensionBox.x + extensionBox.width).toBeLessThanOrEqual(rowBox.x + rowBox.width);
      expect(extensionBox.x + extensionBox.width).toBeLessThanOrEqual(PHONE.width);
      // The stem is what gets cut.
      const cut = await extension.evaluate((node) => {
        const stem = node.previousElementSibling as unknown as { scrollWidth: number; clientWidth: number };
        return stem.scrollWidth > stem.clientWidth;
      });
      expect(cut).toBe(true);
      // A screen reader hears the name once and without a space before the extension.
      const open = row.getByTestId('file-open');
      await page.getByRole('button', { name: new RegExp(`^${name.replaceAll('.', '\\.')}`) }).waitFor();
      // The preview's title too.
      await open.click();
      expect(await page.getByTestId('preview-dialog').getByTestId('file-name-extension').textContent()).toBe(
        '.tar.gz',
      );
    });

    it('phone: message actions appear for the tapped message only; no keyboard hint on a touch screen', async () => {
      const page = await newPage({ viewport: PHONE, hasTouch: true });
      await enterRoom(page, 'e2e-phone-actions');
      await post(page, 'first on the phone');
      await post(page, 'second on the phone');
      const first = bubble(page, 'first on the phone');
      const second = bubble(page, 'second on the phone');
      expect(await opacity(first.getByTestId('message-actions'))).toBe('0');
      expect(await opacity(second.getByTestId('message-actions'))).toBe('0');
      await second.locator('p').first().tap();
      await expect.poll(() => opacity(second.getByTestId('message-actions'))).toBe('1');
      expect(await opacity(first.getByTestId('message-actions'))).toBe('0');

      const placeholder = await page.getByTestId('composer-input').getAttribute('placeholder');
      expect(placeholder).not.toMatch(/Ctrl|⌘|Enter/);
      expect(await page.locator('#composer-hint').textContent()).not.toMatch(/Ctrl|⌘/);
    });
  },
);

/** The computed opacity of the element. */
function opacity(locator: ReturnType<Page['locator']>): Promise<string> {
  return locator.evaluate(
    (node) =>
      (globalThis as unknown as { getComputedStyle(n: unknown): { opacity: string } }).getComputedStyle(node)
        .opacity,
  );
}
