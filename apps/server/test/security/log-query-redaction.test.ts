/**
 * Issue 16 item 9: the query string is decoded before it is parsed, so `?%74oken=<jwt>` is a
 * `token` parameter to the server; the log must redact it as such. Every spelling the parser
 * accepts (percent-encoded, upper case, `+`) is sent and the captured log searched for the JWT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redactUrl } from '../../src/lib/logger.js';
import { createRoom, enter } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

describe('log redaction of tokens in query strings', () => {
  let t: LoggedApp;
  let token: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'debug' });
    await createRoom(t.app, 'log-query');
    token = (await enter(t.app, 'log-query')).token;
  });
  afterAll(() => t.close());

  const spellings = ['%74oken', '%74%6F%6B%65%6E', 'TOKEN', 'To%6Ben', 'access%5Ftoken', 'refresh%5ftoken'];

  it.each(spellings)('?%s=<jwt> is accepted as the token and never logged', async (key) => {
    const before = t.logs.lines.length;
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/log-query/contents?${key}=${token}`,
    });
    if (decodeURIComponent(key) === 'token') {
      expect(res.statusCode, res.body).toBe(200);
    }
    const logged = t.logs.lines.slice(before).join('\n');
    expect(logged).toContain('log-query/contents');
    expect(logged).not.toContain(token);
    // Not even its signature or payload.
    for (const part of token.split('.').slice(1)) expect(logged).not.toContain(part);
  });

  it('a JWT under any other name, or percent-encoded, is not logged either', async () => {
    const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const before = t.logs.lines.length;
    await t.app.inject({ method: 'GET', url: `/api/v1/rooms/log-query/contents?x=${token}` });
    await t.app.inject({ method: 'GET', url: `/api/v1/rooms/log-query/contents?token=${encoded}` });
    const logged = t.logs.lines.slice(before).join('\n');
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(encoded);
  });

  it('redactUrl keeps harmless parameters readable', () => {
    expect(redactUrl('/api/v1/rooms/a/messages?limit=20&before=5')).toBe(
      '/api/v1/rooms/a/messages?limit=20&before=5',
    );
    expect(redactUrl('/x?%74oken=abc&limit=2')).toBe('/x?%74oken=[REDACTED]&limit=2');
  });
});
