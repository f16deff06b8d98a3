import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  browserAvailability,
  browserSuite,
  collectErrors,
  DESKTOP,
  ensureRoom,
  fileItem,
  makePng,
  PHONE,
  postMessage,
  screenshotPath,
} from './support/harness.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

describeWithService('Chromium + built web app', browserAvailability(), 'web app in a real browser', () => {
  const suite = browserSuite();
  const newPage = suite.newPage;

  it('creates a password room from the home page and lands in it', async () => {
    const page = await newPage();
    const errors = collectErrors(page);
    await page.goto(suite.server.url);
    await page.getByTestId('create-room-name').fill('e2e-garden');
    await page.getByTestId('create-room-options-toggle').click();
    await page.getByTestId('create-room-password').fill('open sesame');
    const confirm = page.getByTestId('create-room-password-confirm');
    if (await confirm.count()) await confirm.fill('open sesame');
    await page.getByTestId('create-room-submit').click();
    await page.waitForURL(`${suite.server.url}/e2e-garden`);
    await expect.poll(() => page.getByTestId('room-workspace').isVisible()).toBe(true);
    expect(await page.getByTestId('room-name').textContent()).toContain('e2e-garden');
    expect(errors).toEqual([]);
  });

  it('asks for the password: a wrong one is refused, the right one lets you in', async () => {
    const page = await newPage();
    await page.goto(`${suite.server.url}/e2e-garden`);
    await page.getByTestId('password-dialog').waitFor();
    await page.getByTestId('password-input').fill('wrong guess');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('password-error').waitFor();
    await page.getByTestId('password-input').fill('open sesame');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('room-workspace').waitFor();
  });

  it('switches the language to Chinese and back, and remembers it', async () => {
    const page = await newPage({ locale: 'en-US' });
    await page.goto(suite.server.url);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    const englishTitle = await page.locator('h1').first().textContent();
    await page.getByTestId('language-toggle').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').first().textContent()).not.toBe(englishTitle);
    await page.reload();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByTestId('language-toggle').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('follows a Chinese browser by default', async () => {
    const page = await newPage({ locale: 'zh-CN' });
    await page.goto(suite.server.url);
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-CN');
  });

  it('uses tabs on a phone', async () => {
    const page = await newPage({ viewport: PHONE });
    await ensureRoom(suite.server.url, 'e2e-phone');
    await page.goto(`${suite.server.url}/e2e-phone`);
    await page.getByTestId('room-workspace').waitFor();
    expect(await page.getByTestId('mobile-tabs').isVisible()).toBe(true);
    await page.getByTestId('mobile-tab-files').click();
    await expect.poll(() => page.getByTestId('right-panel').isVisible()).toBe(true);
    await page.getByTestId('mobile-tab-room').click();
    await expect.poll(() => page.getByTestId('left-panel').isVisible()).toBe(true);
  });

  /** Serious or critical axe violations on the page as it is now. */
  async function axeViolations(page: Page, within?: string) {
    await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async (selector) => {
      type AxeResult = {
        violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>;
      };
      const axe = (globalThis as unknown as { axe: { run: (context?: unknown) => Promise<AxeResult> } }).axe;
      const result = await (selector ? axe.run({ include: [selector] }) : axe.run());
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        targets: JSON.stringify(v.nodes.map((n) => n.target)),
      }));
    }, within);
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  for (const [path, ready] of [
    ['/', 'create-room-name'],
    ['/e2e-axe', 'room-workspace'],
    ['/e2e-axe-missing', 'room-missing'],
    ['/e2e-axe/nested', 'room-blocked-invalid'],
  ] as const) {
    it(`has no serious or critical accessibility violations on ${path}`, async () => {
      const page = await newPage({ bypassCSP: true });
      if (path === '/e2e-axe') await ensureRoom(suite.server.url, 'e2e-axe');
      await page.goto(`${suite.server.url}${path}`);
      await page.getByTestId(ready).waitFor();
      expect(await axeViolations(page)).toEqual([]);
    });
  }

  it('has no serious or critical accessibility violations in the Share-off confirmation', async () => {
    const page = await newPage({ bypassCSP: true });
    await ensureRoom(suite.server.url, 'e2e-axe-share');
    await page.goto(`${suite.server.url}/e2e-axe-share`);
    await page.getByTestId('perm-share').click();
    await page.getByTestId('share-off-dialog').waitFor();
    expect(await axeViolations(page, '[data-testid="share-off-dialog"]')).toEqual([]);
  });

  it('has no serious or critical accessibility violations in the file preview and the help dialog', async () => {
    const page = await newPage({ bypassCSP: true });
    await ensureRoom(suite.server.url, 'e2e-axe-dialogs');
    await page.goto(`${suite.server.url}/e2e-axe-dialogs`);
    await page.getByTestId('room-workspace').waitFor();
    await page.getByTestId('file-input').setInputFiles({
      name: 'axe.png',
      mimeType: 'image/png',
      buffer: makePng(32, 32),
    });
    await page
      .locator('[data-testid^="file-item-"]')
      .filter({ hasText: 'axe.png' })
      .getByTestId('file-open')
      .click();
    await page.getByTestId('preview-image').waitFor();
    expect(await axeViolations(page, '[data-testid="preview-dialog"]')).toEqual([]);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('preview-dialog').count()).toBe(0);
    await page.getByTestId('help-button').click();
    await page.getByTestId('help-dialog').waitFor();
    expect(await axeViolations(page, '[data-testid="help-dialog"]')).toEqual([]);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no serious or critical accessibility violations in the room's panels and dialogs (${colorScheme})`, async () => {
      const room = `e2e-axe-panels-${colorScheme}`;
      const page = await newPage({ bypassCSP: true, colorScheme });
      await ensureRoom(suite.server.url, room);
      await page.goto(`${suite.server.url}/${room}`);
      await page.getByTestId('room-workspace').waitFor();
      await postMessage(page, 'A message to look at, with `code` and a [link](https://example.com).');
      await page.getByTestId('file-input').setInputFiles({
        name: 'axe-panels.png',
        mimeType: 'image/png',
        buffer: makePng(16, 16),
      });
      await fileItem(page, 'axe-panels.png').waitFor();
      // A share link in the list, so its row is checked too.
      const links = page.getByTestId('share-links-section');
      await links.getByTestId('share-link-create').click();
      await links.getByTestId('share-link-row').first().waitFor();
      // Every violation found, by where it was looked for (all of them reported at once).
      const found: Array<{ selector: string; id: string; targets: string }> = [];
      const check = async (selector?: string) => {
        for (const v of await axeViolations(page, selector))
          found.push({ selector: selector ?? 'page', id: v.id, targets: v.targets });
      };

      // The whole page (room settings, permissions, share links, sessions in the side panel).
      await check();
      for (const section of [
        'room-controls',
        'settings-section',
        'permissions-section',
        'share-links-section',
        'sessions-section',
      ]) {
        await page.getByTestId(section).scrollIntoViewIfNeeded();
        await check(`[data-testid="${section}"]`);
      }

      for (const [button, dialog] of [
        ['prefs-button', 'prefs-dialog'],
        ['share-button', 'share-dialog'],
        ['add-link', 'link-dialog'],
        ['delete-room-button', 'delete-room-dialog'],
        ['perm-share', 'share-off-dialog'],
      ] as const) {
        await page.getByTestId(button).click();
        await page.getByTestId(dialog).waitFor();
        await check(`[data-testid="${dialog}"]`);
        await page.keyboard.press('Escape');
        await expect.poll(() => page.locator('[role="dialog"], [role="alertdialog"]').count()).toBe(0);
      }
      expect(found).toEqual([]);
    });
  }

  it('saves screenshots of home, room, preview, settings and "create it?", desktop and phone, en and zh, light and dark', async () => {
    const room = 'e2e-screens';
    await ensureRoom(suite.server.url, room);
    // Something to look at: a message and an image (opened in the preview below).
    const setup = await newPage();
    await setup.goto(`${suite.server.url}/${room}`);
    await setup.getByTestId('room-workspace').waitFor();
    await setup.getByTestId('file-input').setInputFiles({
      name: 'screen.png',
      mimeType: 'image/png',
      buffer: makePng(480, 320),
    });
    await fileItem(setup, 'screen.png').waitFor();
    await postMessage(setup, 'Hello **room** — the image is in the files panel.');
    await setup.close();

    for (const locale of ['en-US', 'zh-CN']) {
      for (const [device, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        for (const colorScheme of ['light', 'dark'] as const) {
          const page = await newPage({ viewport, locale, colorScheme });
          const name = (what: string) =>
            screenshotPath(`${what}-${device}-${locale.startsWith('zh') ? 'zh' : 'en'}-${colorScheme}`);
          await page.goto(suite.server.url);
          await page.getByTestId('create-room-name').waitFor();
          await page.screenshot({ path: name('home'), fullPage: true });
          await page.goto(`${suite.server.url}/${room}`);
          await page.getByTestId('room-workspace').waitFor();
          await page.getByTestId('message-list').getByText('the image is in the files panel').waitFor();
          await page.screenshot({ path: name('room'), fullPage: true });

          if (device === 'phone') await page.getByTestId('mobile-tab-files').click();
          await fileItem(page, 'screen.png').getByTestId('file-open').click();
          const image = page.getByTestId('preview-image');
          await expect
            .poll(() => image.evaluate((n) => (n as unknown as { naturalHeight: number }).naturalHeight), {
              timeout: 20_000,
            })
            .toBeGreaterThan(0);
          await page.screenshot({ path: name('preview') });
          await page.keyboard.press('Escape');
          await expect.poll(() => page.getByTestId('preview-dialog').count()).toBe(0);

          if (device === 'phone') await page.getByTestId('mobile-tab-room').click();
          const settings = page.getByTestId('settings-section');
          await settings.scrollIntoViewIfNeeded();
          await page.screenshot({ path: name('settings') });

          await page.goto(`${suite.server.url}/e2e-no-such-room`);
          await page.getByTestId('room-missing').waitFor();
          await page.screenshot({ path: name('missing'), fullPage: true });
          await page.close();
        }
      }
    }
  }, 300_000);
});
