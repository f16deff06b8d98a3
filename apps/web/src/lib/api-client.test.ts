import { describe, expect, it, vi } from 'vitest';

import { ApiClient, ApiError, apiErrorFromBody, parseRetryAfter, readApiError } from './api-client';
import { TokenStore, type KeyValueStorage } from './token-store';

function memoryStorage(): KeyValueStorage {
  const data = new Map<string, string>();
  return {
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('apiErrorFromBody', () => {
  it('reads the error envelope', () => {
    const error = apiErrorFromBody(410, { error: { code: 'ROOM_EXPIRED', message: 'gone', status: 410 } });
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'ROOM_EXPIRED', status: 410, message: 'gone' });
  });

  it('keeps validation details', () => {
    const error = apiErrorFromBody(400, {
      error: {
        code: 'VALIDATION_ERROR',
        message: 'bad',
        status: 400,
        details: [{ path: 'name', message: 'too short' }],
      },
    });
    expect(error.details).toEqual([{ path: 'name', message: 'too short' }]);
  });

  it('falls back on the status when the body is not an envelope', () => {
    expect(apiErrorFromBody(404, undefined)).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      message: 'HTTP 404',
    });
    expect(apiErrorFromBody(502, 'Bad gateway')).toMatchObject({ code: 'INTERNAL_ERROR', status: 502 });
    expect(apiErrorFromBody(418, { message: 'teapot', code: 'TEAPOT' })).toMatchObject({
      code: 'TEAPOT',
      message: 'teapot',
    });
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThanOrEqual(3);
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('parses a Response, including non-JSON bodies', async () => {
    const error = await readApiError(
      json(429, { error: { code: 'RATE_LIMITED', message: 'slow', status: 429 } }, { 'Retry-After': '7' }),
    );
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfter: 7 });
    const plain = await readApiError(new Response('<html>oops</html>', { status: 500 }));
    expect(plain).toMatchObject({ code: 'INTERNAL_ERROR', status: 500 });
  });
});

describe('ApiClient', () => {
  const NOW = Date.UTC(2026, 10, 28, 10);
  const iso = (ms: number) => new Date(NOW + ms).toISOString();

  it('sends the token in the Authorization header, never in the URL', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('room1', { token: 'jwt-1', expires_at: iso(3_600_000) });
    const fetchMock = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => json(200, []));
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    await api.listContents('room1');
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(String(url)).toBe('/api/v1/rooms/room1/contents');
    expect(String(url)).not.toContain('token');
    expect((init!.headers as Record<string, string>).Authorization).toBe('Bearer jwt-1');
  });

  it('percent-encodes Unicode room names', async () => {
    const fetchMock = vi.fn(async (_url: string | URL | Request) => json(200, { id: 1 }));
    const api = new ApiClient(
      new TokenStore(memoryStorage()),
      fetchMock as unknown as typeof fetch,
      () => NOW,
    );
    await api.getRoom('项目-2026');
    expect(String(fetchMock.mock.calls[0]![0])).toBe('/api/v1/rooms/%E9%A1%B9%E7%9B%AE-2026');
  });

  it('refreshes a token that is about to expire before using it', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('r', {
      token: 'old',
      expires_at: iso(60_000),
      refresh_token: 'rt',
      refresh_token_expires_at: iso(86_400_000),
    });
    const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).endsWith('/auth/refresh')) {
        expect(JSON.parse(String(init!.body))).toEqual({ refresh_token: 'rt' });
        return json(200, {
          access_token: 'new',
          access_token_expires_at: iso(7_200_000),
          refresh_token: 'rt2',
          refresh_token_expires_at: iso(86_400_000),
        });
      }
      return json(200, []);
    });
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    await api.listContents('r');
    expect(store.get('r')).toMatchObject({ token: 'new', refresh_token: 'rt2' });
    const last = fetchMock.mock.calls.at(-1)!;
    expect((last[1]!.headers as Record<string, string>).Authorization).toBe('Bearer new');
  });

  it('shares one refresh between concurrent callers', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('r', {
      token: 'old',
      expires_at: iso(60_000),
      refresh_token: 'rt',
      refresh_token_expires_at: iso(86_400_000),
    });
    let refreshes = 0;
    const fetchMock = vi.fn(async (url: string | URL | Request) => {
      if (String(url).endsWith('/auth/refresh')) {
        refreshes += 1;
        return json(200, {
          access_token: 'new',
          access_token_expires_at: iso(7_200_000),
          refresh_token: 'rt2',
          refresh_token_expires_at: iso(86_400_000),
        });
      }
      return json(200, []);
    });
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    await Promise.all([api.ensureToken('r'), api.ensureToken('r'), api.ensureToken('r')]);
    expect(refreshes).toBe(1);
  });

  it('on 401 forgets the session and tells listeners', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('r', { token: 'revoked', expires_at: iso(3_600_000) });
    const fetchMock = vi.fn(async () =>
      json(401, { error: { code: 'AUTHENTICATION_FAILED', message: 'revoked', status: 401 } }),
    );
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    const lost = vi.fn();
    api.onAuthLost(lost);
    await expect(api.listContents('r')).rejects.toMatchObject({ code: 'AUTHENTICATION_FAILED', status: 401 });
    expect(store.get('r')).toBeUndefined();
    expect(lost).toHaveBeenCalledWith('r', expect.any(ApiError));
  });

  it('on 401 with a refresh token renews once and retries', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('r', {
      token: 'stale',
      expires_at: iso(3_600_000),
      refresh_token: 'rt',
      refresh_token_expires_at: iso(86_400_000),
    });
    let calls = 0;
    const fetchMock = vi.fn(async (url: string | URL | Request) => {
      if (String(url).endsWith('/auth/refresh')) {
        return json(200, {
          access_token: 'fresh',
          access_token_expires_at: iso(7_200_000),
          refresh_token: 'rt2',
          refresh_token_expires_at: iso(86_400_000),
        });
      }
      calls += 1;
      return calls === 1
        ? json(401, { error: { code: 'AUTHENTICATION_FAILED', message: 'x', status: 401 } })
        : json(200, [{ id: 1 }]);
    });
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    await expect(api.listContents('r')).resolves.toEqual([{ id: 1 }]);
    expect(store.get('r')?.token).toBe('fresh');
  });

  it('maps network failures to NETWORK_ERROR (after retrying GETs)', async () => {
    vi.useFakeTimers();
    const fetchMock = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const api = new ApiClient(
      new TokenStore(memoryStorage()),
      fetchMock as unknown as typeof fetch,
      () => NOW,
    );
    const promise = api.getConfig();
    const assertion = expect(promise).rejects.toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
    await vi.runAllTimersAsync();
    await assertion;
    expect(fetchMock).toHaveBeenCalledTimes(3);
    vi.useRealTimers();
  });

  it('unwraps {message} / {created} / {updated} bodies', async () => {
    const store = new TokenStore(memoryStorage());
    store.set('r', { token: 't', expires_at: iso(3_600_000) });
    const message = { id: 9, content_type: 'text', text: 'hi' };
    const fetchMock = vi.fn(async () => json(201, { message }));
    const api = new ApiClient(store, fetchMock as unknown as typeof fetch, () => NOW);
    await expect(api.postMessage('r', 'hi')).resolves.toEqual(message);
  });
});
