import { parseTimestamp } from './format';
import type { TokenClaims } from '@elizabeth/protocol';

/** What is kept per room (keyed by slug) in localStorage. */
export interface StoredToken {
  token: string;
  expires_at: string;
  refresh_token?: string;
  refresh_token_expires_at?: string;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const TOKEN_STORAGE_KEY = 'elizabeth:tokens';
/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Below this much remaining life a token is not worth sending. */
export const USABLE_MARGIN_MS = 15_000;

export function expiresInMs(expiresAt: string | undefined, now: number): number {
  const at = parseTimestamp(expiresAt);
  return Number.isNaN(at) ? -Infinity : at - now;
}

/** The token can still be sent (not expired, with a small safety margin). */
export function isUsable(entry: StoredToken | undefined, now: number): entry is StoredToken {
  return !!entry && expiresInMs(entry.expires_at, now) > USABLE_MARGIN_MS;
}

/** The token should be renewed now (expires within the margin, or already has). */
export function needsRefresh(entry: StoredToken, now: number, margin = REFRESH_MARGIN_MS): boolean {
  return expiresInMs(entry.expires_at, now) <= margin;
}

export function canRefresh(entry: StoredToken, now: number): boolean {
  return !!entry.refresh_token && expiresInMs(entry.refresh_token_expires_at, now) > USABLE_MARGIN_MS;
}

/**
 * Milliseconds until a refresh should be scheduled: the margin before expiry, but never more than
 * half the remaining lifetime (short-lived tokens) and never negative.
 */
export function refreshDelay(entry: StoredToken, now: number, margin = REFRESH_MARGIN_MS): number {
  const remaining = expiresInMs(entry.expires_at, now);
  if (!Number.isFinite(remaining) || remaining <= 0) return 0;
  return Math.max(0, Math.min(remaining - margin, remaining / 2));
}

/** Reads the claims of a JWT without verifying it (display and permission hints only). */
export function decodeClaims(token: string): Partial<TokenClaims> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const binary = atob(base64);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return json && typeof json === 'object' ? (json as Partial<TokenClaims>) : undefined;
  } catch {
    return undefined;
  }
}

/** Per-room token persistence. Works with any Storage-like object (in-memory in tests). */
export class TokenStore {
  private readonly listeners = new Set<(slug: string) => void>();

  constructor(private readonly storage: KeyValueStorage | undefined) {}

  private readAll(): Record<string, StoredToken> {
    if (!this.storage) return {};
    try {
      const raw = this.storage.getItem(TOKEN_STORAGE_KEY);
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, StoredToken>) : {};
    } catch {
      return {};
    }
  }

  private writeAll(all: Record<string, StoredToken>): void {
    if (!this.storage) return;
    try {
      if (Object.keys(all).length === 0) this.storage.removeItem(TOKEN_STORAGE_KEY);
      else this.storage.setItem(TOKEN_STORAGE_KEY, JSON.stringify(all));
    } catch {
      // Storage full or blocked: tokens then live for this page only.
    }
  }

  get(slug: string): StoredToken | undefined {
    const entry = this.readAll()[slug];
    return entry && typeof entry.token === 'string' ? entry : undefined;
  }

  /** Slugs with an entry, most recently expiring last. */
  list(): string[] {
    return Object.keys(this.readAll());
  }

  set(slug: string, entry: StoredToken): void {
    const all = this.readAll();
    all[slug] = entry;
    this.writeAll(all);
    this.emit(slug);
  }

  remove(slug: string): void {
    const all = this.readAll();
    if (!(slug in all)) return;
    delete all[slug];
    this.writeAll(all);
    this.emit(slug);
  }

  /** Drops entries whose access and refresh tokens have both expired. */
  prune(now: number): void {
    const all = this.readAll();
    let changed = false;
    for (const [slug, entry] of Object.entries(all)) {
      if (!isUsable(entry, now) && !canRefresh(entry, now)) {
        delete all[slug];
        changed = true;
      }
    }
    if (changed) this.writeAll(all);
  }

  subscribe(listener: (slug: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(slug: string): void {
    for (const listener of this.listeners) listener(slug);
  }
}
