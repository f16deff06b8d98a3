import { describe, expect, it } from 'vitest';

import {
  TOKEN_STORAGE_KEY,
  TokenStore,
  canRefresh,
  decodeClaims,
  expiresInMs,
  isUsable,
  needsRefresh,
  refreshDelay,
  type KeyValueStorage,
  type StoredToken,
} from './token-store';

const NOW = Date.UTC(2026, 10, 28, 10, 0, 0);
const at = (ms: number) => new Date(NOW + ms).toISOString();

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

function jwt(payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}.signature`;
}

describe('token expiry math', () => {
  const token = (expiresIn: number, refreshIn?: number): StoredToken => ({
    token: 't',
    expires_at: at(expiresIn),
    ...(refreshIn !== undefined ? { refresh_token: 'r', refresh_token_expires_at: at(refreshIn) } : {}),
  });

  it('measures time to expiry', () => {
    expect(expiresInMs(at(60_000), NOW)).toBe(60_000);
    expect(expiresInMs('garbage', NOW)).toBe(-Infinity);
    expect(expiresInMs('2026-11-28T10:01:00', NOW)).toBe(60_000);
  });

  it('is usable until shortly before expiry', () => {
    expect(isUsable(token(3_600_000), NOW)).toBe(true);
    expect(isUsable(token(10_000), NOW)).toBe(false);
    expect(isUsable(token(-1), NOW)).toBe(false);
    expect(isUsable(undefined, NOW)).toBe(false);
  });

  it('needs a refresh within five minutes of expiry', () => {
    expect(needsRefresh(token(3_600_000), NOW)).toBe(false);
    expect(needsRefresh(token(4 * 60_000), NOW)).toBe(true);
    expect(needsRefresh(token(-5), NOW)).toBe(true);
  });

  it('can refresh only with a live refresh token', () => {
    expect(canRefresh(token(0), NOW)).toBe(false);
    expect(canRefresh(token(0, 86_400_000), NOW)).toBe(true);
    expect(canRefresh(token(0, -1), NOW)).toBe(false);
  });

  it('schedules refreshes before expiry and never in the past', () => {
    expect(refreshDelay(token(7_200_000), NOW)).toBe(3_600_000);
    expect(refreshDelay(token(20 * 60_000), NOW)).toBe(10 * 60_000);
    expect(refreshDelay(token(240_000), NOW)).toBe(0);
    expect(refreshDelay(token(-1000), NOW)).toBe(0);
    expect(refreshDelay(token(400_000), NOW)).toBe(100_000);
  });
});

describe('decodeClaims', () => {
  it('reads the payload of a JWT (base64url, UTF-8)', () => {
    const claims = decodeClaims(jwt({ jti: 'abc', permission: 15, room_name: '项目-2026' }));
    expect(claims).toMatchObject({ jti: 'abc', permission: 15, room_name: '项目-2026' });
  });

  it('returns undefined for garbage', () => {
    expect(decodeClaims('nope')).toBeUndefined();
    expect(decodeClaims('a.!!!.c')).toBeUndefined();
  });
});

describe('TokenStore', () => {
  it('stores entries per room slug', () => {
    const storage = memoryStorage();
    const store = new TokenStore(storage);
    store.set('alpha', { token: 'a', expires_at: at(1000) });
    store.set('项目', { token: 'b', expires_at: at(1000) });
    expect(store.get('alpha')?.token).toBe('a');
    expect(store.get('项目')?.token).toBe('b');
    expect(store.list().sort()).toEqual(['alpha', '项目'].sort());
    store.remove('alpha');
    expect(store.get('alpha')).toBeUndefined();
    store.remove('项目');
    expect(storage.data.has(TOKEN_STORAGE_KEY)).toBe(false);
  });

  it('survives corrupt storage and missing storage', () => {
    const storage = memoryStorage();
    storage.setItem(TOKEN_STORAGE_KEY, '{not json');
    expect(new TokenStore(storage).get('x')).toBeUndefined();
    const none = new TokenStore(undefined);
    none.set('x', { token: 't', expires_at: at(1) });
    expect(none.get('x')).toBeUndefined();
  });

  it('prunes entries that can neither be used nor refreshed', () => {
    const store = new TokenStore(memoryStorage());
    store.set('dead', { token: 'a', expires_at: at(-1000) });
    store.set('refreshable', {
      token: 'b',
      expires_at: at(-1000),
      refresh_token: 'r',
      refresh_token_expires_at: at(86_400_000),
    });
    store.set('alive', { token: 'c', expires_at: at(3_600_000) });
    store.prune(NOW);
    expect(store.list().sort()).toEqual(['alive', 'refreshable']);
  });

  it('notifies subscribers', () => {
    const store = new TokenStore(memoryStorage());
    const seen: string[] = [];
    const stop = store.subscribe((slug) => seen.push(slug));
    store.set('a', { token: 't', expires_at: at(1) });
    stop();
    store.set('b', { token: 't', expires_at: at(1) });
    expect(seen).toEqual(['a']);
  });
});
