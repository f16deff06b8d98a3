'use client';

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { getApi } from '@/lib/api-client';
import type { ContentView, MessagePage, WsMember } from '@elizabeth/protocol';
import {
  EMPTY_TIMELINE,
  applyNewestPage,
  applyOlderPage,
  mergeMessages,
  removeMessage,
  type TimelineState,
} from '@/lib/message-store';
import { MESSAGE_PAGE_SIZE, takeEarly } from '@/lib/room-prefetch';

const PAGE_SIZE = MESSAGE_PAGE_SIZE;

export interface Timeline extends TimelineState {
  loadOlder: () => Promise<void>;
  resync: () => Promise<void>;
  upsert: (message: ContentView) => void;
  remove: (id: number) => void;
  reload: () => Promise<void>;
  /** Someone renamed: their messages show the new name. */
  renameAuthor: (member: WsMember) => void;
}

export function useTimeline(slug: string): Timeline {
  const [state, setState] = useState<TimelineState>(EMPTY_TIMELINE);
  const stateRef = useRef(state);
  stateRef.current = state;
  const alive = useRef(true);
  // Changes made while a newest-page request is in flight (frames, this page's own posts). That
  // answer reflects the server before them, and applying it would undo them (a message pushed
  // meanwhile dropped as "no longer on the server"): they are applied again on top of it.
  const inFlight = useRef(0);
  const journal = useRef<Array<(items: ContentView[]) => ContentView[]>>([]);
  const change = useCallback((edit: (items: ContentView[]) => ContentView[]) => {
    if (inFlight.current > 0) journal.current.push(edit);
    setState((s) => ({ ...s, items: edit(s.items) }));
  }, []);
  /** Asks for the newest page; `apply` merges it, then the changes made meanwhile are replayed. */
  const newestPage = useCallback(
    async (
      ask: () => Promise<MessagePage>,
      apply: (s: TimelineState, page: MessagePage) => TimelineState,
    ) => {
      inFlight.current += 1;
      const mark = journal.current.length;
      try {
        const page = await ask();
        if (!alive.current) return;
        const replay = journal.current.slice(mark);
        setState((s) => {
          const next = apply(s, page);
          return { ...next, items: replay.reduce((items, edit) => edit(items), next.items) };
        });
      } finally {
        inFlight.current -= 1;
        if (inFlight.current === 0) journal.current = [];
      }
    },
    [],
  );

  const reload = useCallback(async () => {
    setState((s) => ({ ...s, status: 'loading' }));
    try {
      const ask = () => getApi().listMessages(slug, { limit: PAGE_SIZE });
      // The page's early request (lib/room-prefetch.ts) when there was one; asked again if refused.
      const early = takeEarly(slug, 'messages');
      await newestPage(
        () => (early ? early.catch(ask) : ask()),
        (s, page) => applyNewestPage(s, page, true),
      );
    } catch (error) {
      if (alive.current) setState((s) => ({ ...s, status: 'error', error }));
    }
  }, [slug, newestPage]);

  useEffect(() => {
    alive.current = true;
    void reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);

  const loadOlder = useCallback(async () => {
    const current = stateRef.current;
    if (!current.hasMore || current.loadingOlder || !current.cursor) return;
    setState((s) => ({ ...s, loadingOlder: true }));
    try {
      const page = await getApi().listMessages(slug, { limit: PAGE_SIZE, cursor: current.cursor });
      if (alive.current) setState((s) => applyOlderPage(s, page));
    } catch {
      if (alive.current) setState((s) => ({ ...s, loadingOlder: false }));
    }
  }, [slug]);

  const resync = useCallback(async () => {
    try {
      await newestPage(
        () => getApi().listMessages(slug, { limit: PAGE_SIZE }),
        (s, page) => {
          // Drop local messages inside the newest page's range that the server no longer has.
          const ids = new Set(page.items.map((item) => item.id));
          const oldest = page.items[0]?.sequence_number;
          const kept =
            oldest === undefined || oldest === null
              ? s.items
              : s.items.filter((item) => (item.sequence_number ?? 0) < oldest || ids.has(item.id));
          return applyNewestPage({ ...s, items: kept }, page, false);
        },
      );
    } catch {
      // the next event or reconnect tries again
    }
  }, [slug, newestPage]);

  const upsert = useCallback(
    (message: ContentView) => change((items) => mergeMessages(items, [message])),
    [change],
  );
  const remove = useCallback((id: number) => change((items) => removeMessage(items, id)), [change]);
  const renameAuthor = useCallback(
    (member: WsMember) => change((items) => withAuthorName(items, member)),
    [change],
  );

  return useMemo(
    () => ({ ...state, loadOlder, resync, upsert, remove, reload, renameAuthor }),
    [state, loadOlder, resync, upsert, remove, reload, renameAuthor],
  );
}

/** The contents with this author's current name (the same array when none is theirs). */
export function withAuthorName(items: ContentView[], member: WsMember): ContentView[] {
  if (!items.some((item) => item.author_id === member.author_id)) return items;
  return items.map((item) =>
    item.author_id === member.author_id ? { ...item, author_name: member.display_name } : item,
  );
}
