import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import { apiSession, browserAvailability, browserSuite, ensureRoom, postMessage } from './support/harness.js';

/**
 * Keyboard and screen-reader access to the virtualised message list (issue 17, accessibility).
 * Only a window of rows is in the page, so the list follows the WAI-ARIA feed pattern: role=feed,
 * each message an article with aria-posinset / aria-setsize, Page Down / Page Up move focus to
 * the next / previous article (the list scrolls to it and renders it). New messages are
 * announced through a separate live region, one short line each, never the whole list.
 */
const N = 300;

async function api(base: string, path: string, token: string, init: RequestInit): Promise<void> {
  const response = await fetch(`${base}/api/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers },
  });
  if (!response.ok) throw new Error(`${init.method} ${path} → ${response.status} ${await response.text()}`);
}

async function fillRoom(base: string, room: string, count: number): Promise<void> {
  await ensureRoom(base, room);
  const token = await apiSession(base, room);
  for (let start = 0; start < count; start += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, count - start) }, (_, k) => {
        const n = start + k + 1;
        // Every seventh message is taller, so rows have different heights.
        const text = n % 7 === 0 ? `Message ${n}.\n\nA second paragraph\n\n- and\n- a list` : `Message ${n}.`;
        return api(base, `/rooms/${room}/messages`, token, {
          method: 'POST',
          body: JSON.stringify({ text }),
        });
      }),
    );
    // Sequence numbers follow creation: keep batches in order.
  }
}

interface Focused {
  inFeed: boolean;
  posinset: number | null;
  setsize: number | null;
  n: number | null;
  visible: boolean;
}

/** What has focus: a message article of the feed, its position, and whether it is on screen. */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    type El = {
      closest(selector: string): El | null;
      getAttribute(name: string): string | null;
      getBoundingClientRect(): { top: number; bottom: number; height: number };
      textContent: string | null;
      tagName: string;
    };
    const doc = (
      globalThis as unknown as { document: { activeElement: El | null; querySelector(s: string): El } }
    ).document;
    const el = doc.activeElement;
    const scroller = doc.querySelector('[data-testid="message-list"]');
    const article = el?.tagName === 'ARTICLE' ? el : null;
    if (!article) return { inFeed: false, posinset: null, setsize: null, n: null, visible: false };
    const box = article.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    const visible =
      box.height > view.height
        ? box.top < view.bottom && box.bottom > view.top
        : box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
    const match = /Message (\d+)\./.exec(article.textContent ?? '');
    return {
      inFeed: article.closest('[role="feed"]') !== null,
      posinset: Number(article.getAttribute('aria-posinset')) || null,
      setsize: Number(article.getAttribute('aria-setsize')) || null,
      n: match ? Number(match[1]) : null,
      visible,
    };
  });
}

/** Waits (up to a second) for the focused row to be on screen: rows measured after a move can shift it. */
async function settled(page: Page, keep: (at: Focused) => void): Promise<void> {
  await expect
    .poll(
      async () => {
        const at = await focused(page);
        keep(at);
        return at.visible;
      },
      { timeout: 1_000, interval: 50 },
    )
    .toBe(true)
    .catch(() => undefined);
}

describeWithService('Chromium + built web app', browserAvailability(), 'accessible message list', () => {
  const suite = browserSuite();

  /** Opens `room` filled with `count` messages, once its newest message is shown. */
  async function openFilledRoom(room: string, count: number): Promise<Page> {
    await fillRoom(suite.server.url, room, count);
    const page = await suite.newPage();
    await page.goto(`${suite.server.url}/${room}`);
    await page.getByTestId('room-workspace').waitFor();
    await page.getByTestId('message-list').getByText(`Message ${count}.`).waitFor();
    return page;
  }

  it(`moves keyboard focus through all ${N} messages of a virtualised list, newest to oldest and back`, async () => {
    const page = await openFilledRoom('e2e-a11y-feed', N);

    // Tab reaches the feed on one article (roving tabindex): the newest one.
    await page.locator('[data-testid="message-list"] article[tabindex="0"]').focus();
    let now = await focused(page);
    expect(now).toMatchObject({ inFeed: true, n: N, visible: true });

    // Page Up to the oldest: every message in turn, each on screen when it has focus; older
    // pages load on the way.
    const up: number[] = [now.n!];
    for (let step = 0; step < N + 20 && now.n !== 1; step += 1) {
      const before = now.n;
      await page.keyboard.press('PageUp');
      await expect.poll(async () => (now = await focused(page)).n, { timeout: 10_000 }).not.toBe(before);
      await settled(page, (at) => (now = at));
      expect(now).toMatchObject({ inFeed: true, visible: true });
      up.push(now.n!);
    }
    expect(up).toEqual(Array.from({ length: N }, (_, k) => N - k));
    expect(now).toMatchObject({ posinset: 1, setsize: N });

    // Page Down back to the newest: positions 1..N in order, each row on screen.
    const positions: number[] = [now.posinset!];
    for (let step = 1; step < N; step += 1) {
      const before = now.posinset;
      await page.keyboard.press('PageDown');
      await expect
        .poll(async () => (now = await focused(page)).posinset, { timeout: 10_000 })
        .not.toBe(before);
      expect(now).toMatchObject({ inFeed: true, visible: true, setsize: N });
      expect(now.n).toBe(now.posinset);
      positions.push(now.posinset!);
    }
    expect(positions).toEqual(Array.from({ length: N }, (_, k) => k + 1));

    // Home goes to the oldest message; the focus stays on it when the list is scrolled away
    // from it (its row stays mounted though out of the window).
    await page.keyboard.press('Home');
    await expect.poll(async () => (await focused(page)).n).toBe(1);
    await page.mouse.move(700, 400);
    await page.getByTestId('message-list').hover();
    await page.mouse.wheel(0, 100_000);
    await page.getByTestId('message-list').getByText(`Message ${N}.`).waitFor();
    expect(await focused(page)).toMatchObject({ inFeed: true, n: 1, visible: false });
    // Control+End leaves the feed for what follows it.
    await page.keyboard.press('Control+End');
    expect((await focused(page)).inFeed).toBe(false);
  }, 180_000);

  it('deleting the message that has focus moves focus to the next message, or to the one before the newest', async () => {
    const page = await openFilledRoom('e2e-a11y-delete-focus', 3);
    const list = page.getByTestId('message-list');
    const row = (n: number) => list.locator('article').filter({ hasText: `Message ${n}.` });
    /** Deletes message n with the keyboard only: its delete button, then the confirmation (the default). */
    async function deleteByKeyboard(n: number): Promise<void> {
      await row(n).getByTestId('message-delete').focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('message-delete-confirm').focus();
      await page.keyboard.press('Enter');
      await row(n).waitFor({ state: 'detached' });
    }

    // The dialog closes and focus lands on the message that took the deleted one's place.
    await deleteByKeyboard(2);
    await expect.poll(async () => (await focused(page)).n, { timeout: 5_000 }).toBe(3);
    expect((await focused(page)).inFeed).toBe(true);

    // The newest message has no next one: focus goes to the one before it.
    await deleteByKeyboard(3);
    await expect.poll(async () => (await focused(page)).n, { timeout: 5_000 }).toBe(1);
  });

  it('announces a message from someone else in a live region, one short line, not the list', async () => {
    const room = 'e2e-a11y-live';
    const page = await openFilledRoom(room, 5);

    const announcer = page.getByTestId('message-announcer');
    expect(await announcer.getAttribute('aria-live')).toBe('polite');
    // Nothing said for the messages already there.
    expect((await announcer.textContent())?.trim()).toBe('');
    // The list itself is not a live region (scrolling a virtualised list adds rows).
    const liveRows = await page.evaluate(
      () =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('[aria-live] article').length,
    );
    expect(liveRows).toBe(0);

    const token = await apiSession(suite.server.url, room);
    await api(suite.server.url, `/rooms/${room}/session`, token, {
      method: 'PATCH',
      body: JSON.stringify({ display_name: 'Bob' }),
    });
    const long = `Hello from the other side ${'with many more words '.repeat(20)}`;
    await api(suite.server.url, `/rooms/${room}/messages`, token, {
      method: 'POST',
      body: JSON.stringify({ text: long }),
    });
    await expect
      .poll(() => announcer.textContent(), { timeout: 10_000 })
      .toMatch(/^Bob: Hello from the other side/);
    const said = (await announcer.textContent()) ?? '';
    expect(said.length).toBeLessThan(120);
    expect(said).not.toContain('Message 5');

    // What this page sends itself is not read back to its author.
    await postMessage(page, 'My own words here');
    await page.getByTestId('message-list').getByText('My own words here').waitFor();
    await page.waitForTimeout(500);
    expect(await announcer.textContent()).toBe(said);
  });

  it('moves keyboard focus through all files of the virtualised file list with the arrow keys', async () => {
    const room = 'e2e-a11y-files';
    const files = 120;
    await ensureRoom(suite.server.url, room);
    const token = await apiSession(suite.server.url, room);
    for (let start = 0; start < files; start += 50) {
      const form = new FormData();
      for (let n = start; n < Math.min(files, start + 50); n += 1)
        form.append('file', new Blob([`file ${n}\n`]), `file-${String(n).padStart(3, '0')}.txt`);
      const response = await fetch(`${suite.server.url}/api/v1/rooms/${room}/contents`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
      expect(response.status).toBe(201);
    }
    const page = await suite.newPage();
    await page.goto(`${suite.server.url}/${room}`);
    await page.getByTestId('room-workspace').waitFor();
    const list = page.getByTestId('file-list');
    await list.locator('li').first().getByTestId('file-open').focus();

    const where = () =>
      page.evaluate(() => {
        type El = {
          closest(selector: string): El | null;
          getAttribute(name: string): string | null;
          getBoundingClientRect(): { top: number; bottom: number };
          parentElement: El | null;
          dataset: { testid?: string };
        };
        const doc = (globalThis as unknown as { document: { activeElement: El | null } }).document;
        const el = doc.activeElement;
        const row = el?.closest('li[data-index]');
        let scroller = row?.parentElement ?? null;
        while (scroller && !scroller.getAttribute('class')?.includes('overflow-y-auto'))
          scroller = scroller.parentElement;
        if (!el || !row || !scroller) return { control: null, posinset: null, setsize: null, visible: false };
        const box = row.getBoundingClientRect();
        const view = scroller.getBoundingClientRect();
        return {
          control: el.dataset.testid ?? null,
          posinset: Number(row.getAttribute('aria-posinset')),
          setsize: Number(row.getAttribute('aria-setsize')),
          visible: box.top >= view.top - 1 && box.bottom <= view.bottom + 1,
        };
      });

    let now = await where();
    expect(now).toMatchObject({ control: 'file-open', posinset: 1, setsize: files, visible: true });
    const positions = [now.posinset];
    for (let step = 1; step < files; step += 1) {
      const before = now.posinset;
      await page.keyboard.press('ArrowDown');
      await expect.poll(async () => (now = await where()).posinset).not.toBe(before);
      expect(now).toMatchObject({ control: 'file-open', setsize: files, visible: true });
      positions.push(now.posinset);
    }
    expect(positions).toEqual(Array.from({ length: files }, (_, k) => k + 1));
    await page.keyboard.press('Home');
    await expect.poll(async () => (now = await where()).posinset).toBe(1);
    expect(now.visible).toBe(true);
  }, 120_000);
});
