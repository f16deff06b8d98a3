import type { ContentView, MessagePage } from '@elizabeth/protocol';

export interface TimelineState {
  items: ContentView[];
  cursor: string | null;
  hasMore: boolean;
  status: 'idle' | 'loading' | 'ready' | 'error';
  loadingOlder: boolean;
  error?: unknown;
}

export const EMPTY_TIMELINE: TimelineState = {
  items: [],
  cursor: null,
  hasMore: false,
  status: 'idle',
  loadingOlder: false,
};

function order(a: ContentView, b: ContentView): number {
  const sa = a.sequence_number ?? Number.MAX_SAFE_INTEGER;
  const sb = b.sequence_number ?? Number.MAX_SAFE_INTEGER;
  if (sa !== sb) return sa - sb;
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  return a.id - b.id;
}

function revision(item: ContentView): number {
  const value = Date.parse(item.updated_at);
  return Number.isNaN(value) ? 0 : value;
}

/**
 * Merges messages by id, sorted by sequence number. An incoming copy older than the cached one
 * (by `updated_at`) is ignored; unchanged records keep their identity (no re-render).
 */
export function mergeMessages(
  existing: readonly ContentView[],
  incoming: readonly ContentView[],
): ContentView[] {
  const byId = new Map(existing.map((item) => [item.id, item]));
  let changed = false;
  for (const item of incoming) {
    const current = byId.get(item.id);
    if (
      current &&
      (revision(item) < revision(current) ||
        (revision(item) === revision(current) && current.text === item.text))
    )
      continue;
    byId.set(item.id, item);
    changed = true;
  }
  if (!changed) return existing as ContentView[];
  return [...byId.values()].sort(order);
}

export function removeMessage(existing: readonly ContentView[], id: number): ContentView[] {
  const next = existing.filter((item) => item.id !== id);
  return next.length === existing.length ? (existing as ContentView[]) : next;
}

/** Applies the newest page (first load or re-sync after a reconnect). */
export function applyNewestPage(state: TimelineState, page: MessagePage, replace: boolean): TimelineState {
  const items = replace ? mergeMessages([], page.items) : mergeMessages(state.items, page.items);
  return {
    ...state,
    items,
    status: 'ready',
    cursor: replace || state.cursor === null ? page.next_cursor : state.cursor,
    hasMore: replace || state.cursor === null ? page.has_more : state.hasMore,
  };
}

export function applyOlderPage(state: TimelineState, page: MessagePage): TimelineState {
  return {
    ...state,
    items: mergeMessages(state.items, page.items),
    cursor: page.next_cursor,
    hasMore: page.has_more,
    loadingOlder: false,
  };
}
