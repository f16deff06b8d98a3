import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import { browserAvailability, DESKTOP, PHONE, roomSuite, screenshotPath } from './support/harness.js';

/** Every control of the formatting toolbar, by test id (without the `expanded-` prefix). */
const TOOL_IDS = [
  'tool-bold',
  'tool-italic',
  'tool-strike',
  'tool-code',
  'tool-link',
  'tool-h1',
  'tool-h2',
  'tool-h3',
  'tool-list',
  'tool-ordered',
  'tool-quote',
  'tool-undo',
  'tool-redo',
  'tool-code-block',
  'code-language-select',
];

interface ControlReport {
  testId: string | null;
  name: string;
  /** The control's box and the part of it left visible by every clipping ancestor. */
  box: { left: number; top: number; right: number; bottom: number };
  visible: { left: number; top: number; right: number; bottom: number } | null;
  whole: boolean;
  /** A select: is it at least as wide as it wants to be (its selected label is not cut)? */
  labelFits: boolean;
  focused: boolean;
  disabled: boolean;
}

/**
 * Reports every rendered (not `visibility: hidden`) control inside `selector`: how much of it
 * the toolbar and its clipping ancestors (and the viewport) leave visible. Runs in the page;
 * written as a string because the test files are compiled without the DOM library.
 */
const REPORT = `(selector) => {
  const root = document.querySelector(selector);
  if (!root) return null;
  const box = (r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
  const controls = [...root.querySelectorAll('button, select, input:not([type=hidden]), a[href], [tabindex]')]
    .filter((el) => el.checkVisibility({ visibilityProperty: true }));
  return controls.map((el) => {
    const own = box(el.getBoundingClientRect());
    let clip = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
    const cut = (r, x, y) => {
      if (x) clip = { ...clip, left: Math.max(clip.left, r.left), right: Math.min(clip.right, r.right) };
      if (y) clip = { ...clip, top: Math.max(clip.top, r.top), bottom: Math.min(clip.bottom, r.bottom) };
    };
    for (let node = el.parentElement; node && node !== document.documentElement; node = node.parentElement) {
      const style = getComputedStyle(node);
      const r = node.getBoundingClientRect();
      if (node === root) cut(r, true, true);
      else cut(r, style.overflowX !== 'visible', style.overflowY !== 'visible');
    }
    const visible = {
      left: Math.max(own.left, clip.left),
      top: Math.max(own.top, clip.top),
      right: Math.min(own.right, clip.right),
      bottom: Math.min(own.bottom, clip.bottom),
    };
    const empty = visible.right <= visible.left || visible.bottom <= visible.top;
    const e = 0.5;
    const whole =
      !empty &&
      visible.left <= own.left + e && visible.right >= own.right - e &&
      visible.top <= own.top + e && visible.bottom >= own.bottom - e;
    let labelFits = true;
    if (el.tagName === 'SELECT') {
      const width = el.getBoundingClientRect().width;
      const saved = el.style.cssText;
      el.style.width = 'max-content';
      el.style.minWidth = 'max-content';
      el.style.flex = 'none';
      const natural = el.getBoundingClientRect().width;
      el.style.cssText = saved;
      labelFits = width >= natural - 0.5 && el.scrollWidth <= el.clientWidth;
    }
    const name = (el.getAttribute('aria-label') || [...(el.labels || [])].map((l) => l.textContent).join(' ') || el.textContent || '').trim();
    return {
      testId: el.getAttribute('data-testid'),
      name,
      box: own,
      visible: empty ? null : visible,
      whole,
      labelFits,
      focused: el === document.activeElement,
      disabled: el.disabled === true,
    };
  });
}`;

async function report(page: Page, selector: string): Promise<ControlReport[]> {
  const result = await page.evaluate<ControlReport[] | null>(`(${REPORT})(${JSON.stringify(selector)})`);
  if (!result) throw new Error(`nothing matches ${selector}`);
  return result;
}

/** The controls of `controls` that are shown only in part (or not at all while rendered). */
function cut(controls: ControlReport[]) {
  return controls
    .filter((c) => !c.whole || !c.labelFits)
    .map((c) => ({ testId: c.testId, name: c.name, box: c.box, visible: c.visible, labelFits: c.labelFits }));
}

function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate<string | null>('document.activeElement?.getAttribute("data-testid") ?? null');
}

/**
 * Checks one formatting toolbar: each control is whole (or not rendered at all), the ones that
 * do not fit are in the "more" panel, and everything is reachable with the keyboard.
 */
async function checkToolbar(page: Page, scope: string, prefix: string, screenshot: string) {
  const toolbar = `[data-testid="${scope}"] [role="toolbar"]`;
  const shown = await report(page, toolbar);
  expect(cut(shown), `${scope}: toolbar controls shown only in part`).toEqual([]);
  expect(
    shown.filter((c) => !c.name),
    'every control has an accessible name',
  ).toEqual([]);

  const reachable = new Set(shown.map((c) => c.testId));
  const more = page.getByTestId(`${prefix}tool-more`);
  if (await more.count()) {
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    // Opened from the keyboard: the focus moves into the panel.
    await more.focus();
    await page.keyboard.press('Enter');
    const panel = page.getByTestId(`${prefix}tool-more-panel`);
    await panel.waitFor();
    expect(await more.getAttribute('aria-expanded')).toBe('true');
    const inPanel = await report(page, `[data-testid="${prefix}tool-more-panel"]`);
    expect(cut(inPanel), `${scope}: "more" panel controls shown only in part`).toEqual([]);
    expect(inPanel.filter((c) => !c.name)).toEqual([]);
    expect(inPanel.some((c) => c.focused)).toBe(true);
    await page.screenshot({ path: screenshotPath(screenshot) });
    for (const c of inPanel) {
      expect(reachable.has(c.testId), `${c.testId} is both in the toolbar and in the panel`).toBe(false);
      reachable.add(c.testId);
    }
    // Escape closes only the panel (not the larger editor around it) and gives the focus back.
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    expect(await focusedTestId(page)).toBe(`${prefix}tool-more`);
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    reachable.delete(`${prefix}tool-more`);
  }
  expect([...reachable].sort()).toEqual(TOOL_IDS.map((id) => prefix + id).sort());

  // Tabbing through the toolbar stops only at whole controls, in order (undo and redo are
  // disabled while there is no history).
  const order: (string | null)[] = [];
  await page.locator(`${toolbar} button, ${toolbar} select`).first().focus();
  for (let i = 0; i < 40; i += 1) {
    const now = await report(page, toolbar);
    const focused = now.find((c) => c.focused);
    if (!focused) break;
    expect(cut([focused]), `${scope}: ${focused.testId} is cut while focused`).toEqual([]);
    order.push(focused.testId);
    await page.keyboard.press('Tab');
  }
  expect(order).toEqual(shown.filter((c) => c.testId && !c.disabled).map((c) => c.testId));
}

describeWithService(
  'Chromium + built web app',
  browserAvailability(),
  'composer toolbar in a real browser',
  () => {
    const { newPage, enterRoom } = roomSuite();

    for (const [device, viewport] of [
      ['phone', PHONE],
      ['desktop', DESKTOP],
    ] as const) {
      for (const [locale, colorScheme] of [
        ['en-US', 'light'],
        ['zh-CN', 'dark'],
      ] as const) {
        it(`${device}, ${locale}, ${colorScheme}: no toolbar control is ever cut, the rest is one "more" away`, async () => {
          const page = await newPage({ viewport, locale, colorScheme });
          const shot = `${device}-${locale.slice(0, 2)}-${colorScheme}`;
          await enterRoom(page, `e2e-toolbar-${device}-${locale.slice(0, 2)}`);
          await checkToolbar(page, 'composer', '', `composer-more-${shot}`);

          await page.getByTestId('composer-expand').click();
          await page.getByTestId('composer-expanded').waitFor();
          await checkToolbar(page, 'composer-expanded', 'expanded-', `composer-expanded-more-${shot}`);
        });
      }
    }

    it('phone: a tool from the "more" panel edits the text and closes the panel', async () => {
      const page = await newPage({ viewport: PHONE });
      await enterRoom(page, 'e2e-toolbar-more');
      const input = page.getByTestId('composer-input');
      await input.fill('Title');
      await input.focus();
      await page.getByTestId('tool-more').click();
      await page.getByTestId('tool-more-panel').waitFor();
      // Opened by touch or mouse, the text keeps the focus (the on-screen keyboard stays up).
      expect(await focusedTestId(page)).toBe('composer-input');
      await page.getByTestId('tool-h2').click();
      await expect.poll(() => input.inputValue()).toBe('## Title');
      await page.getByTestId('tool-more-panel').waitFor({ state: 'detached' });

      // The language chosen in the panel is the one the code block uses.
      await input.fill('');
      await page.getByTestId('tool-more').click();
      await page.getByTestId('code-language-select').selectOption('python');
      await page.getByTestId('tool-code-block').click();
      await expect.poll(() => input.inputValue()).toContain('```python');
    });
  },
);
