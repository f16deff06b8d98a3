import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';

import { describeWithService } from '../apps/server/test/support/services.js';
import { apiSession, browserAvailability, browserSuite } from './support/harness.js';

/** The page's stored sessions (the test files are compiled without the DOM library). */
const storedTokens = () =>
  JSON.parse(
    (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem(
      'elizabeth:tokens',
    ) ?? '{}',
  ) as Record<string, { token: string }>;

/** Issue 17: room flows that never strand a user (one test per flow of the first list). */
describeWithService('Chromium + built web app', browserAvailability(), 'entering and leaving rooms', () => {
  // 12 s rooms let the expiry flows run in real time (a token needs ≥ 5 s before expiry − leeway).
  const suite = browserSuite({
    ROOM_ALLOWED_AGES: '12,7200',
    ROOM_DEFAULT_AGE: '7200',
    JWT_LEEWAY_SECONDS: '1',
  });
  const newPage = suite.newPage;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${suite.server.url}/api/v1${path}`, {
      ...init,
      headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
    });
  const createRoom = async (name: string, body: Record<string, unknown> = {}) => {
    const response = await api(`/rooms/${encodeURIComponent(name)}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as { slug: string; expire_at: string };
  };
  /** Whether a room exists, asked without creating it. */
  const exists = async (name: string) =>
    (await api(`/rooms/${encodeURIComponent(name)}?create=false`)).status !== 404;

  async function open(page: Page, path: string): Promise<void> {
    await page.goto(`${suite.server.url}${path}`);
  }
  async function post(page: Page, text: string): Promise<void> {
    await page.getByTestId('composer-input').fill(text);
    await page.getByTestId('composer-send').click();
    await expect.poll(() => page.getByTestId('message-list').textContent()).toContain(text);
  }

  it('1. Share off asks first, then moves the page to the private address and everything keeps working', async () => {
    await createRoom('e2e-share-off');
    const page = await newPage();
    await open(page, '/e2e-share-off');
    await page.getByTestId('room-workspace').waitFor();
    await post(page, 'before the move');
    await page.getByTestId('perm-share').click();
    const dialog = page.getByTestId('share-off-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/link/i);
    await page.getByTestId('share-off-confirm').click();
    await page.waitForURL(/\/e2e-share-off_[A-Za-z0-9]{12}$/);
    const slug = decodeURIComponent(new URL(page.url()).pathname.slice(1));
    await page.getByTestId('room-workspace').waitFor();
    expect(await page.getByTestId('room-address').textContent()).toContain(slug);
    await post(page, 'after the move');
    expect(Object.keys(await page.evaluate(storedTokens))).toEqual([slug]);
    await page.reload();
    await page.getByTestId('room-workspace').waitFor();
    await expect.poll(() => page.getByTestId('message-list').textContent()).toContain('after the move');
    // Deleting the room works at the new address too.
    await page.getByTestId('delete-room-button').click();
    await page.getByTestId('delete-room-input').fill('e2e-share-off');
    await page.getByTestId('delete-room-confirm').click();
    await page.waitForURL(`${suite.server.url}/`);
  });

  it('2a. Entry limit: the password that takes the last slot lets the visitor in, and back in after a reload', async () => {
    await createRoom('e2e-limit-pw', { password: 'hunter22', max_times_entered: 2 });
    await apiSession(suite.server.url, 'e2e-limit-pw', 'hunter22');
    const page = await newPage();
    await open(page, '/e2e-limit-pw');
    await page.getByTestId('password-input').fill('hunter22');
    await page.getByTestId('password-submit').click();
    await page.getByTestId('room-workspace').waitFor();
    expect(await page.getByTestId('room-entries').textContent()).toMatch(/2\s*\/\s*2/);
    await page.reload();
    await page.getByTestId('room-workspace').waitFor();
  });

  it('2b. Entry limit: a held session gets back in after others used the remaining entries', async () => {
    await createRoom('e2e-limit-open');
    const page = await newPage();
    await open(page, '/e2e-limit-open');
    await page.getByTestId('room-workspace').waitFor();
    const token = (await page.evaluate(storedTokens))['e2e-limit-open']?.token;
    const settings = await api('/rooms/e2e-limit-open/settings', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ max_times_entered: 2 }),
    });
    expect(settings.status).toBe(200);
    await apiSession(suite.server.url, 'e2e-limit-open');
    await page.reload();
    await page.getByTestId('room-workspace').waitFor();
  });

  it('3. Missing, mistyped and nested addresses ask before creating; purged rooms say they expired', async () => {
    const page = await newPage();
    await open(page, '/e2e-never-made');
    const missing = page.getByTestId('room-missing');
    await missing.waitFor();
    expect(await missing.textContent()).toContain('e2e-never-made');
    expect(await exists('e2e-never-made')).toBe(false);
    await page.getByTestId('room-missing-create').click();
    await page.getByTestId('room-workspace').waitFor();
    expect(await exists('e2e-never-made')).toBe(true);

    await createRoom('e2e-demo-room');
    await open(page, '/E2E-Demo-Room');
    await page.getByTestId('room-missing').waitFor();
    await page.getByTestId('room-missing-similar').click();
    await page.waitForURL(`${suite.server.url}/e2e-demo-room`);
    await page.getByTestId('room-workspace').waitFor();
    expect(await exists('E2E-Demo-Room')).toBe(false);

    await open(page, '/e2e-foo/bar');
    await page.getByTestId('room-blocked-invalid').waitFor();
    expect(await exists('e2e-foo')).toBe(false);

    await createRoom('e2e-purged', { age_seconds: 12 });
    await new Promise((resolve) => setTimeout(resolve, 12_500));
    await suite.server.server.app.lifecycle.runPass();
    await open(page, '/e2e-purged');
    await page.getByTestId('room-blocked-expired').waitFor();
    expect(await exists('e2e-purged')).toBe(true); // a tombstone (410), not a new room
    expect((await api('/rooms/e2e-purged?create=false')).status).toBe(410);
    // 12.5 s of it is waiting for the room to expire: the default 30 s left too little for a
    // loaded machine.
  }, 60_000);

  it('4. An open room goes to "expired" at expire_at, not at the next lifecycle pass', async () => {
    const room = await createRoom('e2e-expiring', { age_seconds: 12 });
    const page = await newPage();
    await open(page, '/e2e-expiring');
    await page.getByTestId('room-workspace').waitFor();
    await page
      .getByTestId('room-blocked-expired')
      .waitFor({ timeout: 16_000 })
      .catch(async (e: unknown) => {
        await page.screenshot({ path: '/tmp/wt17-expiring.png' });
        throw e;
      });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(room.expire_at));
    expect(Date.now()).toBeLessThan(Date.parse(room.expire_at) + 3_000);
  }, 60_000);

  it('5. The sessions list is live: this device is online, a new session appears without a reload', async () => {
    await createRoom('e2e-sessions-live');
    const owner = await newPage();
    await open(owner, '/e2e-sessions-live');
    await owner.getByTestId('room-workspace').waitFor();
    const rows = owner.getByTestId('session-row');
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => rows.first().getAttribute('data-connected')).toBe('true');
    const guest = await newPage();
    await open(guest, '/e2e-sessions-live');
    await guest.getByTestId('room-workspace').waitFor();
    await expect.poll(() => rows.count(), { timeout: 5_000 }).toBe(2);
    await expect
      .poll(() => owner.locator('[data-testid="session-row"][data-connected="true"]').count(), {
        timeout: 5_000,
      })
      .toBe(2);
  });

  it('6. Edit off is for everyone, including the manager, and the words say so', async () => {
    const home = await newPage();
    await open(home, '/');
    await home.getByTestId('create-room-options-toggle').click();
    expect(await home.getByTestId('create-room-permissions').textContent()).toMatch(/including you/i);

    await createRoom('e2e-edit-off');
    const page = await newPage();
    await open(page, '/e2e-edit-off');
    await page.getByTestId('room-workspace').waitFor();
    expect(await page.getByTestId('permission-toggles').textContent()).toMatch(/including you/i);
    await page.getByTestId('perm-edit').click();
    await page.getByTestId('composer-readonly').waitFor();
    expect(await page.getByTestId('composer-readonly').textContent()).toMatch(/including you/i);
  });

  it('7. "Cannot be entered" names the exact reason the server gives', async () => {
    await createRoom('e2e-full-room', { max_times_entered: 1 });
    await apiSession(suite.server.url, 'e2e-full-room');
    const page = await newPage();
    await open(page, '/e2e-full-room');
    const blocked = page.getByTestId('room-blocked-not_enterable');
    await blocked.waitFor();
    expect(await blocked.textContent()).toMatch(/entry limit/i);

    await createRoom('e2e-moved-room');
    const token = await apiSession(suite.server.url, 'e2e-moved-room');
    await api('/rooms/e2e-moved-room/permissions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ edit: true, share: false, delete: true }),
    });
    await open(page, '/e2e-moved-room');
    await blocked.waitFor();
    expect(await blocked.textContent()).toMatch(/private address/i);

    const zh = await newPage({ locale: 'zh-CN' });
    await open(zh, '/e2e-full-room');
    await zh.getByTestId('room-blocked-not_enterable').waitFor();
    expect(await zh.getByTestId('room-blocked-reason').textContent()).toMatch(/上限/);
  });
  it('polish: "Create room" on an empty name makes one up; a taken name offers "Join it"', async () => {
    const page = await newPage();
    await open(page, '/');
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('room-workspace').waitFor();
    const made = decodeURIComponent(new URL(page.url()).pathname.slice(1));
    expect(made).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);

    await createRoom('e2e-taken-room');
    await open(page, '/');
    await page.getByTestId('create-room-name').fill('e2e-taken-room');
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('create-room-join').click();
    await page.waitForURL(`${suite.server.url}/e2e-taken-room`);
    await page.getByTestId('room-workspace').waitFor();
  });
  it('creating a room with Share off lands at its private address with a working session', async () => {
    const page = await newPage();
    await open(page, '/');
    await page.getByTestId('create-room-name').fill('e2e-born-private');
    await page.getByTestId('create-room-options-toggle').click();
    await page.getByTestId('create-room-perm-share').click();
    await page.getByTestId('create-room-submit').click();
    await page.waitForURL(/\/e2e-born-private_[A-Za-z0-9]{12}$/);
    await page.getByTestId('room-workspace').waitFor();
    await post(page, 'born private');
    expect(Object.keys(await page.evaluate(storedTokens))).toHaveLength(1);
  });
});
