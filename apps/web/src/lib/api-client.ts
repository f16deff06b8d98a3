import type {
  ArchiveQuery,
  ContentView,
  CreateRoomBody,
  CreateShareLinkBody,
  DeleteContentsResponse,
  ErrorDetail,
  IssueTokenBody,
  IssueTokenResponse,
  MessagePage,
  OpenShareLinkBody,
  OpenShareLinkResponse,
  PrepareUploadBody,
  PrepareUploadResponse,
  PublicConfigResponse,
  RefreshResponse,
  RoomView,
  SessionIdentity,
  SessionView,
  ShareLinkView,
  TokenClaims,
  UpdatePermissionsBody,
  UpdatePermissionsResponse,
  UpdateSettingsBody,
  UploadResponse,
} from '@elizabeth/protocol';
import { ERROR_STATUS, type ErrorCode } from '@elizabeth/protocol/constants';

import { TokenStore, canRefresh, isUsable, needsRefresh, type StoredToken } from './token-store';

export type ApiErrorDetail = ErrorDetail;

/** Every failure of the API client: the server's error envelope, or a client-side code. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ApiErrorDetail[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    details?: ApiErrorDetail[],
    retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export const NETWORK_ERROR = 'NETWORK_ERROR';
export const TIMEOUT = 'TIMEOUT';
export const ABORTED = 'ABORTED';

/** Codes the client makes up itself; every other code is the server's (`ErrorCode`, protocol). */
export type ClientErrorCode =
  typeof NETWORK_ERROR | typeof TIMEOUT | typeof ABORTED | 'INVALID_RESPONSE' | 'HTTP_ERROR';

/** The code an answer without an envelope gets: the protocol's first code of its status. */
const FALLBACK_CODES = new Map<number, ErrorCode>();
for (const [code, status] of Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>) {
  if (!FALLBACK_CODES.has(status)) FALLBACK_CODES.set(status, code);
}
FALLBACK_CODES.set(404, 'NOT_FOUND'); // a bare 404 is no statement about a room

function fallbackCode(status: number): ErrorCode | ClientErrorCode {
  return FALLBACK_CODES.get(status) ?? (status >= 500 ? 'INTERNAL_ERROR' : 'HTTP_ERROR');
}

/**
 * Builds an ApiError from a status and a parsed body. Understands the API's envelope
 * `{error:{code,message,status,details?}}` and tolerates `{code,message}` or anything else.
 */
export function apiErrorFromBody(status: number, body: unknown, retryAfter?: number): ApiError {
  const record = body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  const inner =
    record && record.error && typeof record.error === 'object'
      ? (record.error as Record<string, unknown>)
      : record;
  const code = typeof inner?.code === 'string' && inner.code ? inner.code : fallbackCode(status);
  const message =
    typeof inner?.message === 'string' && inner.message
      ? inner.message
      : typeof record?.error === 'string'
        ? record.error
        : `HTTP ${status}`;
  const envelopeStatus = typeof inner?.status === 'number' ? inner.status : status;
  const details = Array.isArray(inner?.details)
    ? inner.details
        .filter((item): item is ApiErrorDetail => !!item && typeof item === 'object' && 'message' in item)
        .map((item) => ({ path: String(item.path ?? ''), message: String(item.message) }))
    : undefined;
  return new ApiError(code, envelopeStatus || status, message, details, retryAfter);
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - now) / 1000));
}

export async function readApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return apiErrorFromBody(response.status, body, parseRetryAfter(response.headers.get('Retry-After')));
}

export function isApiError(error: unknown, code?: ErrorCode | ClientErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

declare global {
  interface Window {
    /** Optional runtime override, e.g. from a same-origin script the operator adds. */
    __ELIZABETH__?: { apiBase?: string; wsUrl?: string };
  }
}

/** `/api/v1` on the page's origin unless overridden at runtime or build time. */
export function getApiBase(): string {
  const runtime = typeof window !== 'undefined' ? window.__ELIZABETH__?.apiBase : undefined;
  const base = runtime || process.env.NEXT_PUBLIC_ELIZABETH_API_BASE || '/api/v1';
  return base.replace(/\/+$/, '');
}

/** Absolute WebSocket URL of `/api/v1/ws` (ws: on http pages, wss: on https pages). */
export function getWebSocketUrl(path = '/ws'): string {
  const explicit =
    (typeof window !== 'undefined' ? window.__ELIZABETH__?.wsUrl : undefined) ||
    process.env.NEXT_PUBLIC_ELIZABETH_WS_URL;
  if (explicit) return explicit;
  const base = getApiBase();
  const origin = typeof window !== 'undefined' ? window.location.origin : 'http://127.0.0.1:4092';
  const url = new URL(base + path, origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

function bearer(token: string): Pick<RequestOptions, 'headers'> {
  return { headers: { Authorization: `Bearer ${token}` } };
}

/** The room's stored session (renewed, lost-session listeners told), or exactly this token. */
function authorise(room: string, token: string | undefined): Pick<RequestOptions, 'headers' | 'room'> {
  return token ? bearer(token) : { room };
}

function encodeSegment(value: string | number): string {
  return encodeURIComponent(String(value));
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  /** Room slug whose stored token authorises the request. */
  room?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface DownloadProgress {
  loaded: number;
  total: number | undefined;
}

type AuthLostListener = (room: string, error: ApiError) => void;

export class ApiClient {
  private readonly renewals = new Map<string, Promise<string>>();
  private readonly authLostListeners = new Set<AuthLostListener>();

  constructor(
    readonly tokens: TokenStore,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = Date.now,
  ) {}

  url(path: string, query?: Query): string {
    let url = getApiBase() + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
      }
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  onAuthLost(listener: AuthLostListener): () => void {
    this.authLostListeners.add(listener);
    return () => this.authLostListeners.delete(listener);
  }

  private async send(path: string, options: RequestOptions, token?: string): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    const controller = new AbortController();
    const timeout = setTimeout(
      () => controller.abort(new DOMException('timeout', 'TimeoutError')),
      options.timeoutMs ?? 30_000,
    );
    const forwardAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      return await this.fetchImpl(this.url(path, options.query), {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: controller.signal,
        credentials: 'same-origin',
      });
    } catch (error) {
      if (options.signal?.aborted) throw new ApiError(ABORTED, 0, 'aborted');
      if (controller.signal.aborted) throw new ApiError(TIMEOUT, 0, 'The server did not answer in time');
      throw new ApiError(NETWORK_ERROR, 0, error instanceof Error ? error.message : 'Network error');
    } finally {
      clearTimeout(timeout);
      options.signal?.removeEventListener('abort', forwardAbort);
    }
  }

  /** Sends a request (with the room's token when `room` is set) and returns the raw response. */
  async raw(path: string, options: RequestOptions = {}): Promise<Response> {
    const method = options.method ?? 'GET';
    const idempotent = method === 'GET' || method === 'HEAD';
    let renewed = false;
    for (let attempt = 0; ; attempt += 1) {
      const token = options.room ? await this.ensureToken(options.room) : undefined;
      let response: Response;
      try {
        response = await this.send(path, options, token);
      } catch (error) {
        if (idempotent && isApiError(error, NETWORK_ERROR) && attempt < 2) {
          await delay(500 * (attempt + 1));
          continue;
        }
        throw error;
      }
      if (response.ok) return response;
      if (
        idempotent &&
        (response.status === 502 || response.status === 503 || response.status === 504) &&
        attempt < 2
      ) {
        await delay(700 * (attempt + 1));
        continue;
      }
      const error = await readApiError(response);
      if (options.room && response.status === 401 && error.code === 'AUTHENTICATION_FAILED') {
        const entry = this.tokens.get(options.room);
        if (!renewed && entry && canRefresh(entry, this.now())) {
          renewed = true;
          try {
            await this.renew(options.room, true);
            continue;
          } catch {
            // fall through: the session is gone
          }
        }
        this.tokens.remove(options.room);
        for (const listener of this.authLostListeners) listener(options.room, error);
      }
      throw error;
    }
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('INVALID_RESPONSE', response.status, 'The server sent an unreadable answer');
    }
  }

  // ---- tokens -------------------------------------------------------------------------------

  /** A token for the room that is valid for a while, renewing it first when it is about to expire. */
  async ensureToken(room: string): Promise<string> {
    const entry = this.tokens.get(room);
    const now = this.now();
    if (!entry || (!isUsable(entry, now) && !canRefresh(entry, now))) {
      if (entry) this.tokens.remove(room);
      throw new ApiError('AUTHENTICATION_FAILED', 401, 'No valid session for this room');
    }
    if (!needsRefresh(entry, now)) return entry.token;
    try {
      return await this.renew(room);
    } catch (error) {
      if (isUsable(this.tokens.get(room), this.now())) return this.tokens.get(room)!.token;
      throw error;
    }
  }

  /** Refresh (refresh token) or rotate (access token); concurrent callers share one request. */
  renew(room: string, force = false): Promise<string> {
    const pending = this.renewals.get(room);
    if (pending) return pending;
    const promise = this.doRenew(room, force).finally(() => this.renewals.delete(room));
    this.renewals.set(room, promise);
    return promise;
  }

  private async doRenew(room: string, force: boolean): Promise<string> {
    const entry = this.tokens.get(room);
    const now = this.now();
    if (!entry) throw new ApiError('AUTHENTICATION_FAILED', 401, 'No session');
    if (!force && !needsRefresh(entry, now)) return entry.token;
    if (canRefresh(entry, now)) {
      try {
        const refreshed = await this.refresh(entry.refresh_token!);
        const next: StoredToken = {
          token: refreshed.access_token,
          expires_at: refreshed.access_token_expires_at,
          refresh_token: refreshed.refresh_token,
          refresh_token_expires_at: refreshed.refresh_token_expires_at,
        };
        this.tokens.set(room, next);
        return next.token;
      } catch (error) {
        if (!isApiError(error) || error.status !== 401) throw error;
        // refresh token rejected: fall back to rotating a still-valid access token
      }
    }
    if (isUsable(entry, now)) {
      const rotated = await this.issueToken(room, { token: entry.token, with_refresh_token: true });
      this.storeIssued(room, rotated);
      return rotated.token;
    }
    this.tokens.remove(room);
    throw new ApiError('AUTHENTICATION_FAILED', 401, 'The session expired');
  }

  storeIssued(room: string, issued: IssueTokenResponse): void {
    this.tokens.set(room, {
      token: issued.token,
      expires_at: issued.expires_at,
      ...(issued.refresh_token ? { refresh_token: issued.refresh_token } : {}),
      ...(issued.refresh_token_expires_at
        ? { refresh_token_expires_at: issued.refresh_token_expires_at }
        : {}),
    });
  }

  // ---- §5 service ---------------------------------------------------------------------------

  getConfig(): Promise<PublicConfigResponse> {
    return this.request('/config');
  }

  // ---- §1 rooms -----------------------------------------------------------------------------

  /** `GET /rooms/{name}`: creates the room on the first visit (the zero-step room). */
  getRoom(name: string): Promise<RoomView> {
    return this.request(`/rooms/${encodeSegment(name)}`);
  }

  /**
   * The room without ever creating it (404 / 410 instead). A held session's token is sent along,
   * so its holder gets back in when the entry limit is reached.
   */
  findRoom(name: string, token?: string): Promise<RoomView> {
    return this.request(`/rooms/${encodeSegment(name)}`, {
      query: { create: 'false' },
      ...(token ? bearer(token) : {}),
    });
  }

  createRoom(name: string, body: CreateRoomBody): Promise<RoomView> {
    return this.request(`/rooms/${encodeSegment(name)}`, { method: 'POST', body });
  }

  deleteRoom(room: string): Promise<{ deleted: boolean }> {
    return this.request(`/rooms/${encodeSegment(room)}`, { method: 'DELETE', room });
  }

  updatePermissions(room: string, body: UpdatePermissionsBody): Promise<UpdatePermissionsResponse> {
    return this.request(`/rooms/${encodeSegment(room)}/permissions`, { method: 'POST', body, room });
  }

  updateSettings(room: string, body: UpdateSettingsBody): Promise<RoomView> {
    return this.request(`/rooms/${encodeSegment(room)}/settings`, { method: 'PUT', body, room });
  }

  // ---- §2 sessions --------------------------------------------------------------------------

  issueToken(name: string, body: IssueTokenBody): Promise<IssueTokenResponse> {
    return this.request(`/rooms/${encodeSegment(name)}/tokens`, { method: 'POST', body });
  }

  /** Sets (or with null clears) this session's display name (API.md, display names). */
  updateSession(room: string, displayName: string | null): Promise<SessionIdentity> {
    return this.request(`/rooms/${encodeSegment(room)}/session`, {
      method: 'PATCH',
      body: { display_name: displayName },
      room,
    });
  }

  validateToken(name: string, token: string): Promise<{ claims: TokenClaims }> {
    return this.request(`/rooms/${encodeSegment(name)}/tokens/validate`, { method: 'POST', body: { token } });
  }

  listSessions(room: string, includeInactive = false): Promise<SessionView[]> {
    return this.request<SessionView[] | { sessions: SessionView[] }>(`/rooms/${encodeSegment(room)}/tokens`, {
      room,
      query: { include_inactive: includeInactive ? 'true' : undefined },
    }).then((result) => (Array.isArray(result) ? result : (result?.sessions ?? [])));
  }

  revokeSession(room: string, jti: string): Promise<{ revoked: boolean }> {
    return this.request(`/rooms/${encodeSegment(room)}/tokens/${encodeSegment(jti)}`, {
      method: 'DELETE',
      room,
    });
  }

  // ---- share links (API.md, "Share links") -------------------------------------------------

  listShareLinks(room: string): Promise<ShareLinkView[]> {
    return this.request(`/rooms/${encodeSegment(room)}/share-links`, { room });
  }

  createShareLink(room: string, body: CreateShareLinkBody): Promise<ShareLinkView> {
    return this.request(`/rooms/${encodeSegment(room)}/share-links`, { method: 'POST', room, body });
  }

  revokeShareLink(room: string, id: number): Promise<{ revoked: boolean }> {
    return this.request(`/rooms/${encodeSegment(room)}/share-links/${id}`, { method: 'DELETE', room });
  }

  /** Opens a link; the session is not stored (a drop box or file page keeps it in memory). */
  openShareLink(body: OpenShareLinkBody): Promise<OpenShareLinkResponse> {
    return this.request('/share-links/open', { method: 'POST', body });
  }

  verifyPassword(name: string, password: string): Promise<{ valid: boolean }> {
    return this.request(`/rooms/${encodeSegment(name)}/password/verify`, {
      method: 'POST',
      body: { password },
    });
  }

  refresh(refreshToken: string): Promise<RefreshResponse> {
    return this.request('/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } });
  }

  logout(accessToken: string): Promise<{ revoked: boolean }> {
    return this.request('/auth/logout', { method: 'POST', body: { access_token: accessToken } });
  }

  // ---- §3 contents --------------------------------------------------------------------------

  /**
   * `token`: sent as it is, without the room's renewal and lost-session handling (the page's
   * early requests, made before the entry flow has checked the stored session).
   */
  listContents(room: string, types?: string[], token?: string): Promise<ContentView[]> {
    return this.request<ContentView[] | { items: ContentView[] }>(`/rooms/${encodeSegment(room)}/contents`, {
      ...authorise(room, token),
      query: { type: types?.join(',') },
    }).then((result) => (Array.isArray(result) ? result : (result?.items ?? [])));
  }

  listMessages(
    room: string,
    params: { limit?: number; cursor?: string | null } = {},
    token?: string,
  ): Promise<MessagePage> {
    return this.request(`/rooms/${encodeSegment(room)}/messages`, {
      ...authorise(room, token),
      query: { limit: params.limit ?? 50, cursor: params.cursor ?? undefined },
    });
  }

  async postMessage(room: string, text: string): Promise<ContentView> {
    const result = await this.request<{ message?: ContentView } & Partial<ContentView>>(
      `/rooms/${encodeSegment(room)}/messages`,
      { method: 'POST', body: { text }, room },
    );
    return unwrap(result, 'message');
  }

  async addLink(
    room: string,
    body: { url: string; name: string; description?: string },
  ): Promise<ContentView> {
    const result = await this.request<{ created?: ContentView } & Partial<ContentView>>(
      `/rooms/${encodeSegment(room)}/contents/url`,
      { method: 'POST', body, room },
    );
    return unwrap(result, 'created');
  }

  async updateContent(
    room: string,
    id: number,
    body: { text?: string; url?: string; name?: string; description?: string; file_name?: string },
  ): Promise<ContentView> {
    const result = await this.request<{ updated?: ContentView } & Partial<ContentView>>(
      `/rooms/${encodeSegment(room)}/contents/${encodeSegment(id)}`,
      { method: 'PUT', body, room },
    );
    return unwrap(result, 'updated');
  }

  deleteContents(room: string, ids: number[]): Promise<DeleteContentsResponse> {
    return this.request(`/rooms/${encodeSegment(room)}/contents`, { method: 'DELETE', body: { ids }, room });
  }

  /** Two-step upload, step 1: reserve quota for a manifest (`POST /contents/prepare`). */
  prepareUpload(room: string, files: PrepareUploadBody['files']): Promise<PrepareUploadResponse> {
    return this.request(`/rooms/${encodeSegment(room)}/contents/prepare`, {
      method: 'POST',
      body: { files },
      room,
    });
  }

  /**
   * Multipart upload: with `reservationId` it is step 2 of the reserved upload; without, the one-shot
   * upload (`curl -F file=@x` equivalent). The browser UI uses tus instead; this exists for completeness.
   */
  async uploadMultipart(
    room: string,
    files: File[],
    reservationId?: string | number,
  ): Promise<UploadResponse> {
    const form = new FormData();
    for (const file of files) form.append('file', file, file.name);
    const token = await this.ensureToken(room);
    const response = await this.fetchImpl(
      this.url(`/rooms/${encodeSegment(room)}/contents`, { reservation_id: reservationId }),
      {
        method: 'POST',
        headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
        body: form,
      },
    );
    if (!response.ok) throw await readApiError(response);
    return (await response.json()) as UploadResponse;
  }

  /** Response of `GET /contents/{id}` with the token in the header (never in the URL). */
  content(
    room: string,
    id: number,
    options: { inline?: boolean; range?: string; signal?: AbortSignal } = {},
  ) {
    return this.raw(`/contents/${encodeSegment(id)}`, {
      room,
      query: { disposition: options.inline ? 'inline' : undefined },
      headers: options.range ? { Range: options.range } : {},
      timeoutMs: 10 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** A zip of the files `ids` (all when absent), with `messages.md` unless `messages` is false. */
  archive(room: string, ids?: number[], options: { messages?: boolean; signal?: AbortSignal } = {}) {
    const query: ArchiveQuery = {
      ids: ids && ids.length > 0 ? ids.join(',') : undefined,
      messages: options.messages === false ? 'false' : undefined,
    };
    return this.raw(`/rooms/${encodeSegment(room)}/archive`, {
      room,
      query,
      timeoutMs: 60 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  uploadEndpoint(room: string): string {
    return new URL(this.url(`/rooms/${encodeSegment(room)}/uploads`), window.location.origin).toString();
  }
}

function unwrap<K extends string>(
  result: { [key in K]?: ContentView } & Partial<ContentView>,
  key: K,
): ContentView {
  const inner = result?.[key];
  if (inner && typeof inner === 'object') return inner;
  return result as ContentView;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a response body into a Blob, reporting progress as bytes arrive. */
export async function readBlob(
  response: Response,
  onProgress?: (progress: DownloadProgress) => void,
): Promise<Blob> {
  const type = response.headers.get('Content-Type') ?? 'application/octet-stream';
  const lengthHeader = response.headers.get('Content-Length');
  const total = lengthHeader ? Number(lengthHeader) : undefined;
  if (!response.body || !onProgress) return response.blob();
  const reader = response.body.getReader();
  const chunks: BlobPart[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value as Uint8Array<ArrayBuffer>);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  return new Blob(chunks, { type });
}

let shared: ApiClient | undefined;

/** The browser-wide client (tokens in localStorage). */
export function getApi(): ApiClient {
  if (!shared) {
    const storage = typeof window !== 'undefined' ? safeLocalStorage() : undefined;
    shared = new ApiClient(new TokenStore(storage));
  }
  return shared;
}

function safeLocalStorage(): Storage | undefined {
  try {
    const storage = window.localStorage;
    storage.getItem('elizabeth:probe');
    return storage;
  } catch {
    return undefined;
  }
}
