import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import {
  apiSession,
  browserAvailability,
  browserSuite,
  ensureRoom,
  fileItem,
  openRoom,
  postMessage,
} from './support/harness.js';

/**
 * How fast a room shows its messages (issue 17, "Structure and speed"). Each room is opened once
 * (the cache fills, the session is stored), then opened again; the second open is measured from
 * navigation start to the app's `room:messages-visible` mark (the message list's first render of
 * real messages). Figures are printed; docs/BENCHMARKS.md records them.
 *
 * The targets (≤ 1.0 s small room, ≤ 1.5 s for 500 messages + 200 files) are asserted
 * when ELIZABETH_TEST_QUIET=1 says the machine is otherwise idle; on a shared, loaded machine
 * the bounds are three times looser. The DOM bound (≤ 1 500 elements for the big room) always holds.
 */
const QUIET = process.env.ELIZABETH_TEST_QUIET === '1';
const SMALL_TARGET_MS = QUIET ? 1_000 : 3_000;
const BIG_TARGET_MS = QUIET ? 1_500 : 4_500;
const DOM_NODES_MAX = 1_500;
const OPENS = 3;

const MESSAGE = 'article[data-testid^="message-"]';

async function post(base: string, path: string, token: string, init: RequestInit): Promise<void> {
  const response = await fetch(`${base}/api/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...init.headers },
  });
  if (response.status !== 201) throw new Error(`POST ${path} → ${response.status} ${await response.text()}`);
}

/** `count` messages (a few with Markdown) and `files` small files, through the API. */
async function fillRoom(base: string, room: string, messages: number, files: number): Promise<void> {
  await ensureRoom(base, room);
  const token = await apiSession(base, room);
  const path = `/rooms/${encodeURIComponent(room)}`;
  for (let start = 0; start < messages; start += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, messages - start) }, (_, k) => {
        const n = start + k + 1;
        const text =
          n % 10 === 0
            ? `Message ${n} with **bold**, a [link](https://example.com/${n}) and\n\n- a\n- list`
            : `Message ${n}: the quick brown fox jumps over the lazy dog.`;
        return post(base, `${path}/messages`, token, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text }),
        });
      }),
    );
  }
  for (let start = 0; start < files; start += 50) {
    const form = new FormData();
    for (let n = start; n < Math.min(files, start + 50); n += 1)
      form.append('file', new Blob([`file ${n}\n`.repeat(16)]), `file-${String(n).padStart(3, '0')}.txt`);
    await post(base, `${path}/contents`, token, { method: 'POST', body: form });
  }
}

interface OpenFigures {
  /** navigation start → the app's `room:messages-visible` mark */
  messagesVisible: number;
  /** navigation start → the first message element in the DOM (independent of the app's mark) */
  firstMessageInDom: number;
  /** navigation start → the first `/api/` request */
  firstApiRequest: number;
  /** navigation start → the newest messages page answered */
  messagesAnswered: number;
  /** navigation start → the last script loaded */
  scriptsLoaded: number;
  domNodes: number;
}

/** What the functions evaluated in the page use (this project's TypeScript has no DOM library). */
interface PageGlobals {
  document: {
    querySelector(selector: string): unknown;
    querySelectorAll(selector: string): { length: number };
    getElementsByTagName(tag: string): { length: number };
  };
  MutationObserver: new (callback: () => void) => {
    observe(target: unknown, options: { childList: boolean; subtree: boolean }): void;
    disconnect(): void;
  };
  performance: {
    now(): number;
    getEntriesByName(name: string, type: string): { startTime: number }[];
    getEntriesByType(type: string): { name: string; startTime: number; responseEnd: number }[];
  };
  __firstMessage?: number;
}

/** Elements in the page. */
const domNodes = () => (globalThis as unknown as PageGlobals).document.getElementsByTagName('*').length;

/** Records when the first message element appears, from navigation start, on every page load. */
async function watchFirstMessage(page: Page): Promise<void> {
  await page.addInitScript((selector: string) => {
    const g = globalThis as unknown as PageGlobals;
    const observer = new g.MutationObserver(() => {
      if (g.document.querySelector(selector)) {
        g.__firstMessage = g.performance.now();
        observer.disconnect();
      }
    });
    observer.observe(g.document, { childList: true, subtree: true });
  }, MESSAGE);
}

async function open(page: Page, url: string, minMessages: number): Promise<OpenFigures> {
  await page.goto(url);
  await page.waitForFunction(
    ({ selector, min }) => {
      const g = globalThis as unknown as PageGlobals;
      return (
        g.document.querySelectorAll(selector).length >= min &&
        g.performance.getEntriesByName('room:messages-visible', 'mark').length > 0
      );
    },
    { selector: MESSAGE, min: minMessages },
  );
  // the files panel too (its list or its empty state), so the DOM count covers the whole room
  await page.locator('[data-testid="file-list"], [data-testid="files-empty"]').first().waitFor();
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    const mark = g.performance.getEntriesByName('room:messages-visible', 'mark')[0]!;
    const resources = g.performance.getEntriesByType('resource');
    const api = resources.filter((entry) => entry.name.includes('/api/')).map((entry) => entry.startTime);
    const messages = resources.find((entry) => /\/messages\?/.test(entry.name));
    const scripts = resources.filter((entry) => entry.name.endsWith('.js')).map((entry) => entry.responseEnd);
    return {
      messagesVisible: Math.round(mark.startTime),
      firstMessageInDom: Math.round(g.__firstMessage ?? -1),
      firstApiRequest: Math.round(Math.min(...api)),
      messagesAnswered: Math.round(messages?.responseEnd ?? -1),
      scriptsLoaded: Math.round(Math.max(...scripts)),
      domNodes: g.document.getElementsByTagName('*').length,
    };
  });
}

function figures(open: OpenFigures): string {
  return (
    `messages visible ${open.messagesVisible} ms (first in DOM ${open.firstMessageInDom} ms; ` +
    `first /api/ ${open.firstApiRequest} ms, messages answered ${open.messagesAnswered} ms, ` +
    `scripts loaded ${open.scriptsLoaded} ms), ${open.domNodes} elements`
  );
}

/** Opens the room once to warm the cache, then `OPENS` times; returns the median open. */
async function measure(page: Page, url: string, minMessages: number): Promise<OpenFigures> {
  await watchFirstMessage(page);
  await open(page, url, minMessages);
  const runs: OpenFigures[] = [];
  for (let i = 0; i < OPENS; i += 1) runs.push(await open(page, url, minMessages));
  runs.sort((a, b) => a.messagesVisible - b.messagesVisible);
  return { ...runs[Math.floor(runs.length / 2)]!, domNodes: Math.max(...runs.map((run) => run.domNodes)) };
}

describeWithService('Chromium + built web app', browserAvailability(), 'opening a room', () => {
  const suite = browserSuite();
  beforeAll(async () => {
    await fillRoom(suite.server.url, 'open-small', 5, 2);
    await fillRoom(suite.server.url, 'open-big', 500, 200);
  }, 120_000);

  it(
    'shows a small room’s messages, and a room with 500 messages and 200 files, quickly and with a bounded DOM',
    { timeout: 240_000 },
    async () => {
      const base = suite.server.url;

      const small = await measure(await suite.newPage(), `${base}/open-small`, 5);
      const big = await measure(await suite.newPage(), `${base}/open-big`, 5);
      console.log(
        `[room-open] ${QUIET ? 'quiet' : 'shared'} machine, median of ${OPENS} warm opens:\n` +
          `  small (5 messages, 2 files):   ${figures(small)}\n` +
          `  big (500 messages, 200 files): ${figures(big)}`,
      );
      expect(big.domNodes).toBeLessThanOrEqual(DOM_NODES_MAX);
      expect(small.messagesVisible).toBeLessThanOrEqual(SMALL_TARGET_MS);
      expect(big.messagesVisible).toBeLessThanOrEqual(BIG_TARGET_MS);
    },
  );

  it(
    'the long lists are virtualised: all 500 messages paged in and all 200 files reachable, DOM still bounded, new messages followed',
    { timeout: 180_000 },
    async () => {
      const page = await suite.newPage();
      await openRoom(page, suite.server.url, 'open-big');
      const list = page.getByTestId('message-list');
      await list.locator(MESSAGE).first().waitFor();
      const inList = (text: string) => list.locator(MESSAGE).filter({ hasText: text });

      // Scrolling up pages in older messages until the first one, keeping the page light.
      const count = page.getByTestId('messages-selection-count');
      await expect
        .poll(
          async () => {
            await list.evaluate((node) => node.scrollTo({ top: 0 }));
            return count.innerText();
          },
          { timeout: 60_000, interval: 300 },
        )
        .toContain('500');
      await list.evaluate((node) => node.scrollTo({ top: 0 }));
      await list.getByText('This is the beginning of the room.').waitFor();
      const domAfterPaging = await page.evaluate(domNodes);
      expect(domAfterPaging).toBeLessThanOrEqual(DOM_NODES_MAX);
      expect(await list.locator(MESSAGE).count()).toBeLessThan(60);

      // Away from the bottom a new message is not scrolled to; "Jump to latest" gets there.
      await postMessage(page, 'sent while reading old ones');
      await page.getByTestId('jump-to-latest').click();
      await inList('sent while reading old ones').waitFor();
      await expect.poll(() => inList('sent while reading old ones').isVisible()).toBe(true);
      // At the bottom, the next one is followed.
      await postMessage(page, 'sent at the bottom');
      await expect.poll(() => inList('sent at the bottom').isVisible()).toBe(true);
      const gap = await list.evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight);
      expect(gap).toBeLessThan(120);

      // The file list: newest first, the oldest one reached by scrolling to the end.
      const files = page.getByTestId('file-list');
      expect(await files.locator('li').count()).toBeLessThan(40);
      expect(await fileItem(page, 'file-000.txt').count()).toBe(0);
      await files.evaluate((node) => node.parentElement!.scrollTo({ top: node.parentElement!.scrollHeight }));
      await fileItem(page, 'file-000.txt').waitFor();
      await page.getByTestId('files-select-all').check();
      expect(await page.getByTestId('selection-bar').innerText()).toContain('200');
    },
  );
});
