/**
 * One typed client of the HTTP API (docs/API.md) for the terminal commands: every answer is
 * parsed with the `@elizabeth/protocol` schemas, every error becomes a ClientError with the
 * server's message and an exit code. The room's session is entered once and cached
 * (TokenCache), refreshed through `/auth/refresh` and entered again when the server refuses it.
 */
import {
  API_PREFIX,
  ContentView,
  CreatedResponse,
  IssueTokenResponse,
  MessagePage,
  MessageResponse,
  PublicConfigResponse,
  RefreshResponse,
  RoomView,
} from '@elizabeth/protocol';
import { z } from 'zod';

import type { RoomAddress } from './address.js';
import { ClientError, EXIT, fromResponse } from './errors.js';
import type { Translate } from './i18n.js';
import type { CachedSession, TokenCache } from './token-cache.js';

/** Where the room password comes from: `--password`, `ELIZABETH_PASSWORD`, or a prompt on a TTY. */
export interface PasswordSource {
  given: string | undefined;
  prompt: (() => Promise<string>) | undefined;
}

/** Renew an access token this long before it expires. */
const EARLY_MS = 60_000;

export class RoomClient {
  readonly api: string;
  private session: CachedSession | undefined;
  private readonly key: string;

  constructor(
    readonly address: RoomAddress,
    private readonly cache: TokenCache,
    private readonly password: PasswordSource,
    private readonly t: Translate,
  ) {
    this.api = `${address.base}${API_PREFIX}`;
    this.key = `${address.base}|${address.room}`;
    this.session = cache.get(this.key);
  }

  get roomPath(): string {
    return `${this.api}/rooms/${encodeURIComponent(this.address.room)}`;
  }

  /** A valid access token: the cached one, a refreshed one, or a new session. */
  async token(): Promise<string> {
    const now = Date.now();
    const s = this.session;
    if (s && Date.parse(s.expires_at) - EARLY_MS > now) return s.token;
    if (s?.refresh_token && s.refresh_token_expires_at && Date.parse(s.refresh_token_expires_at) > now) {
      const refreshed = await this.refresh(s.refresh_token);
      if (refreshed) return refreshed;
    }
    return this.enter();
  }

  /** Forgets the session (the server refused it) so the next `token()` enters again. */
  forget(): void {
    this.session = undefined;
    this.cache.set(this.key, undefined);
  }

  private async refresh(refreshToken: string): Promise<string | undefined> {
    try {
      const answer = await this.json(`${this.api}/auth/refresh`, RefreshResponse, {
        method: 'POST',
        body: { refresh_token: refreshToken },
        auth: false,
      });
      this.remember({
        token: answer.access_token,
        expires_at: answer.access_token_expires_at,
        refresh_token: answer.refresh_token,
        refresh_token_expires_at: answer.refresh_token_expires_at,
      });
      return answer.access_token;
    } catch (error) {
      if (error instanceof ClientError && error.status !== undefined && error.status < 500) return undefined;
      throw error;
    }
  }

  private async enter(): Promise<string> {
    const room = await this.room(false);
    let password = this.password.given;
    if (room.password_protected && password === undefined) {
      if (!this.password.prompt) {
        throw new ClientError(this.t('password_required', { room: this.address.room }), EXIT.AUTH);
      }
      password = await this.password.prompt();
    }
    const issued = await this.json(`${this.roomPath}/tokens`, IssueTokenResponse, {
      method: 'POST',
      body: {
        ...(room.password_protected && password !== undefined ? { password } : {}),
        with_refresh_token: true,
      },
      auth: false,
    });
    this.remember({
      token: issued.token,
      expires_at: issued.expires_at,
      refresh_token: issued.refresh_token,
      refresh_token_expires_at: issued.refresh_token_expires_at,
    });
    return issued.token;
  }

  private remember(session: CachedSession): void {
    this.session = session;
    this.cache.set(this.key, session);
  }

  /** GET the room (the first visit creates it with the server defaults, like the web app). */
  room(auth = true): Promise<RoomView> {
    return this.json(this.roomPath, RoomView, { auth });
  }

  config(): Promise<PublicConfigResponse> {
    return this.json(`${this.api}/config`, PublicConfigResponse, { auth: false });
  }

  contents(types?: string): Promise<ContentView[]> {
    return this.json(`${this.roomPath}/contents${types ? `?type=${types}` : ''}`, z.array(ContentView));
  }

  messages(limit: number, cursor?: string): Promise<MessagePage> {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    return this.json(`${this.roomPath}/messages?${query.toString()}`, MessagePage);
  }

  async sendMessage(text: string): Promise<ContentView> {
    return (await this.json(`${this.roomPath}/messages`, MessageResponse, { method: 'POST', body: { text } }))
      .message;
  }

  async sendLink(url: string, name: string): Promise<ContentView> {
    return (
      await this.json(`${this.roomPath}/contents/url`, CreatedResponse, {
        method: 'POST',
        body: { url, name },
      })
    ).created;
  }

  downloadUrl(id: number): string {
    return `${this.api}/contents/${id}`;
  }

  archiveUrl(ids?: number[]): string {
    // Named files only: the room's messages stay out, as in the web app's zip of selected files.
    return `${this.roomPath}/archive${ids && ids.length > 0 ? `?ids=${ids.join(',')}&messages=false` : ''}`;
  }

  uploadsUrl(): string {
    return `${this.roomPath}/uploads`;
  }

  /**
   * One JSON request; with `auth` the room token goes along, and a `401` (the session was
   * revoked, the password changed) enters again once.
   */
  async json<T>(
    url: string,
    schema: z.ZodType<T>,
    options: { method?: string; body?: unknown; auth?: boolean } = {},
  ): Promise<T> {
    const auth = options.auth ?? true;
    for (let attempt = 0; ; attempt += 1) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (auth) headers.authorization = `Bearer ${await this.token()}`;
      const response = await send(url, {
        method: options.method ?? 'GET',
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      if (response.ok) return schema.parse(JSON.parse(text));
      if (auth && response.status === 401 && attempt === 0) {
        this.forget();
        continue;
      }
      throw fromResponse(response.status, text);
    }
  }
}

/** `fetch` whose network failures (refused, reset, DNS) are ClientErrors naming the server. */
export async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new ClientError(`${new URL(url).origin}: ${cause}`, EXIT.OTHER);
  }
}
