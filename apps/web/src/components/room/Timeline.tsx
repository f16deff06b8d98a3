'use client';

import { clsx } from 'clsx';
import {
  ArrowDown,
  CheckSquare,
  Copy,
  FileDown,
  FileUp,
  MessageSquareDashed,
  Square,
  SquareSplitHorizontal,
  Trash2,
} from 'lucide-react';
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type DragEvent,
  type FocusEvent,
  type KeyboardEvent,
} from 'react';

import { getApi } from '@/lib/api-client';
import { errorMessage } from '@/lib/errors';
import { followAfterScroll, type ScrollLook } from '@/lib/follow-bottom';
import { saveBlob } from '@/lib/download';
import { formatFullTime } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import { invertSelection } from '@/lib/selection';
import { usePrefs } from '@/lib/prefs';

import { Button } from '../ui/button';
import { ConfirmDeleteDialog } from '../ui/confirm-delete-dialog';
import { Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { MessageItem } from './MessageItem';
import { useMe } from './people';
import { useRoom } from './room-context';
import type { Timeline as TimelineModel } from './useTimeline';
import { rowIndexOf, rowItemId, useVirtualList } from './useVirtualList';

/** Message rows: about 60 px for one line until measured, 4 px apart. */
const MESSAGE_ROWS = { estimate: 60, gap: 4, overscan: 4 } as const;
/** The performance mark of the room's first messages on screen (e2e/room-open, docs/BENCHMARKS.md). */
export const MESSAGES_VISIBLE_MARK = 'room:messages-visible';
let messagesShown = false;

/** The start of a message for a screen reader's announcement: plain words, at most ~80 characters. */
export function firstWords(text: string, max = 80): string {
  const plain = text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s*[-+]\s+/gm, '')
    .replace(/[#>*_`~|]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= max) return plain;
  const cut = plain.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Focuses the first tabbable element after (or the last before) `element` in the page. */
function focusOutside(element: HTMLElement, after: boolean) {
  const all = Array.from(document.querySelectorAll<HTMLElement>(TABBABLE)).filter(
    (candidate) => !element.contains(candidate) && candidate.getClientRects().length > 0,
  );
  const following = (candidate: HTMLElement) =>
    Boolean(element.compareDocumentPosition(candidate) & Node.DOCUMENT_POSITION_FOLLOWING);
  const target = after ? all.find(following) : all.filter((candidate) => !following(candidate)).pop();
  target?.focus();
}

export function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

export function Timeline({ timeline }: { timeline: TimelineModel }) {
  const { t, locale } = useI18n();
  const { slug, room, upload, canEdit, canDelete, copy } = useRoom();
  const prefs = usePrefs();
  const toast = useToast();
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [confirmBulk, setConfirmBulk] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const topSentinel = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const atBottomRef = useRef(true);
  const lastLook = useRef<ScrollLook>({ top: 0, height: 0 });
  const content = useRef<HTMLDivElement>(null);
  const [dragging, setDragging] = useState(false);
  const anchor = useRef<{ firstId: number | undefined; height: number; top: number } | null>(null);
  const initialised = useRef(false);
  const lastId = timeline.items[timeline.items.length - 1]?.id;
  const firstId = timeline.items[0]?.id;

  // Only the messages in and near the view are in the page (a long room stays light): the list
  // is virtualised, rows measured as they render. `listTop` is where the list starts inside the
  // scroller (below the "load older" line).
  const items = timeline.items;
  // Keyboard (WAI-ARIA feed): the message with focus, or the one Tab reaches (roving tabindex).
  // Its row stays rendered wherever the list scrolls, so the focus is never dropped.
  const [activeId, setActiveId] = useState<number | null>(null);
  const activeIndex = useMemo(
    () => (activeId === null ? -1 : items.findIndex((item) => item.id === activeId)),
    [items, activeId],
  );
  const tabbableIndex = activeIndex >= 0 ? activeIndex : items.length - 1;
  const focusPending = useRef<number | null>(null);
  /** Page Up at the oldest loaded message: the message to go above once older ones are in. */
  const aboveOnceLoaded = useRef<number | null>(null);
  const {
    virtualizer,
    listRef: list,
    listTop,
  } = useVirtualList<HTMLDivElement>(
    scroller,
    items,
    MESSAGE_ROWS,
    activeIndex >= 0 ? activeIndex : undefined,
  );
  const visible = virtualizer.getVirtualItems();
  // The newest messages are on screen: the room has shown its messages (once per page load).
  useLayoutEffect(() => {
    if (messagesShown || visible.length === 0 || visible[visible.length - 1]!.index !== items.length - 1)
      return;
    messagesShown = true;
    performance.mark(MESSAGES_VISIBLE_MARK);
  });

  // Keep the view steady when older messages are prepended; follow new ones when at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const previous = anchor.current;
    if (!initialised.current && timeline.status === 'ready') {
      el.scrollTop = el.scrollHeight;
      initialised.current = true;
    } else if (previous && previous.firstId !== firstId && previous.firstId !== undefined) {
      el.scrollTop = previous.top + (el.scrollHeight - previous.height);
    } else if (atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
  }, [timeline.items, timeline.status, firstId, lastId]); // eslint-disable-line react-hooks/exhaustive-deps

  // Content that grows after it is shown (an image loading in a new message) keeps the view at the
  // bottom when it was there.
  useEffect(() => {
    const el = scroller.current;
    const inner = content.current;
    if (!el || !inner) return;
    const observer = new ResizeObserver(() => {
      if (atBottomRef.current && initialised.current) el.scrollTop = el.scrollHeight;
      lastLook.current = { top: el.scrollTop, height: el.scrollHeight };
    });
    observer.observe(inner);
    return () => observer.disconnect();
  }, []);

  // Page in older messages when the top comes into view.
  const loadOlder = timeline.loadOlder;
  useEffect(() => {
    const target = topSentinel.current;
    const root = scroller.current;
    if (!target || !root || !timeline.hasMore) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting) && initialised.current) void loadOlder();
      },
      { root, rootMargin: '200px 0px 0px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [timeline.hasMore, loadOlder]);

  /** Moves keyboard focus to the message at `index`: rendered, scrolled into view, focused. */
  const focusIndex = useCallback(
    (index: number) => {
      const target = items[index];
      if (!target) return;
      focusPending.current = target.id;
      setActiveId(target.id);
    },
    [items],
  );

  // The message with focus (or a button of it) was deleted, here or by someone else: its row is
  // gone and the focus with it, to the page's body. It goes to the message that took its place
  // (the next newer one), or to the one before when it was the newest.
  const activeAt = useRef(-1);
  useLayoutEffect(() => {
    if (activeIndex >= 0) {
      activeAt.current = activeIndex;
      return;
    }
    if (activeId === null) return;
    const focusLost = !document.activeElement || document.activeElement === document.body;
    if (focusLost && items.length > 0) focusIndex(Math.min(activeAt.current, items.length - 1));
    else setActiveId(null);
  }, [activeId, activeIndex, items.length, focusIndex]);

  // The row to focus is rendered now (kept by the virtual list): focus it and show it whole. Rows
  // measured just after (older messages coming in above) can move it: for a moment after a key
  // moved the focus, it is brought back into view after each render.
  const keptInViewUntil = useRef(0);
  useLayoutEffect(() => {
    const id = focusPending.current ?? activeId;
    if (id === null) return;
    const element = list.current?.querySelector<HTMLElement>(`[data-testid="message-${id}"]`);
    if (!element) return;
    if (focusPending.current !== null) {
      focusPending.current = null;
      keptInViewUntil.current = performance.now() + 1000;
      element.focus({ preventScroll: true });
    } else if (performance.now() > keptInViewUntil.current || document.activeElement !== element) return;
    const view = scroller.current?.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    if (!view || box.top < view.top || box.bottom > view.bottom) element.scrollIntoView({ block: 'nearest' });
  });

  // Older messages came in after Page Up at the oldest: go on to the one above.
  useLayoutEffect(() => {
    const below = aboveOnceLoaded.current;
    if (below === null) return;
    const index = items.findIndex((item) => item.id === below);
    if (index > 0) {
      aboveOnceLoaded.current = null;
      focusIndex(index - 1);
    } else if (!timeline.hasMore || index < 0) aboveOnceLoaded.current = null;
  }, [items, timeline.hasMore, focusIndex]);

  function onFeedFocus(event: FocusEvent<HTMLDivElement>) {
    const id = rowItemId(event.target, items);
    if (id !== undefined && id !== activeId) setActiveId(id);
  }

  function onFeedKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const target = event.target as HTMLElement;
    // Text being edited keeps its keys.
    if (target.closest('textarea, input:not([type="checkbox"]), [contenteditable="true"]')) return;
    const index = rowIndexOf(target);
    if (index === undefined) return;
    const onArticle = target.tagName === 'ARTICLE';
    let next: number | undefined;
    if (event.ctrlKey && (event.key === 'End' || event.key === 'Home')) {
      event.preventDefault();
      if (list.current) focusOutside(list.current, event.key === 'End');
      return;
    }
    if (event.key === 'PageDown' || (onArticle && event.key === 'ArrowDown')) next = index + 1;
    else if (event.key === 'PageUp' || (onArticle && event.key === 'ArrowUp')) next = index - 1;
    else if (onArticle && event.key === 'Home') next = 0;
    else if (onArticle && event.key === 'End') next = items.length - 1;
    if (next === undefined) return;
    event.preventDefault();
    if (next < 0) {
      if (timeline.hasMore) {
        aboveOnceLoaded.current = items[0]?.id ?? null;
        void loadOlder();
      }
      return;
    }
    focusIndex(Math.min(next, items.length - 1));
  }

  // New messages at the end (after the first load) are announced in one short line each, through
  // a live region of their own: the list is not live (scrolling it adds rows).
  const [announcement, setAnnouncement] = useState('');
  const me = useMe();
  const announcedUpTo = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (timeline.status !== 'ready') return;
    const newest = items[items.length - 1];
    const before = announcedUpTo.current;
    announcedUpTo.current = Math.max(before ?? 0, newest?.id ?? 0);
    if (before === undefined || !newest || newest.id <= before) return;
    // What this session sent is not read back to its author.
    if (me && newest.author_id === me.author_id) return;
    setAnnouncement(
      t('timeline.announce', {
        name: newest.author_name ?? t('people.unnamed'),
        text: firstWords(newest.text ?? '') || '…',
      }),
    );
  }, [items, timeline.status, t, me]);

  // Selection: only ids still in the list count (others were deleted meanwhile).
  const selection = useMemo(
    () => timeline.items.filter((item) => picked.has(item.id)),
    [timeline.items, picked],
  );
  const allSelected = timeline.items.length > 0 && selection.length === timeline.items.length;
  const toggle = useCallback(
    (id: number) =>
      setPicked((current) => {
        const next = new Set(current);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );

  /** The selected messages as one Markdown file, `messages-YYYY-MM-DD.md` (UTC date). */
  function exportSelection() {
    const blocks = selection.map(
      (item, index) =>
        `### ${t('timeline.exportHeading', { n: index + 1 })}\n\n*${formatFullTime(item.created_at, locale)}*\n\n${item.text ?? ''}`,
    );
    const markdown = `# ${room.name}\n\n${blocks.join('\n\n---\n\n')}\n`;
    saveBlob(
      new Blob([markdown], { type: 'text/markdown;charset=utf-8' }),
      `messages-${new Date().toISOString().slice(0, 10)}.md`,
    );
    toast.success(t('timeline.exported', { count: selection.length }));
  }

  async function deleteSelection() {
    const ids = selection.map((item) => item.id);
    setDeleting(true);
    try {
      await getApi().deleteContents(slug, ids);
      for (const id of ids) timeline.remove(id);
      setPicked(new Set());
      setConfirmBulk(false);
    } catch (error) {
      toast.error(t('timeline.deleteSelectedFailed'), errorMessage(t, error));
    } finally {
      setDeleting(false);
    }
  }

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    // Only the reader scrolling up leaves the bottom: content changing height under a view that
    // follows the bottom (images loading one after another) fires scroll events too, and keeps
    // following.
    const now = { top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight };
    const { following, toBottom } = followAfterScroll(atBottomRef.current, lastLook.current, now);
    atBottomRef.current = following;
    if (toBottom) el.scrollTop = el.scrollHeight;
    lastLook.current = { top: el.scrollTop, height: el.scrollHeight };
    setAtBottom(atBottomRef.current);
    anchor.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
  }

  function onDrop(event: DragEvent) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    upload(Array.from(event.dataTransfer.files));
  }

  return (
    <div
      className="relative flex min-h-0 flex-1 flex-col"
      onDragOver={(event) => {
        if (!hasFiles(event) || !canEdit) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget.contains(event.relatedTarget as Node | null)) return;
        setDragging(false);
      }}
      onDrop={onDrop}
    >
      {timeline.items.length > 0 ? (
        <div
          className={clsx(
            'flex items-center gap-1 border-b border-border px-3 py-1.5 text-xs text-muted sm:px-5',
            selection.length === 0 && 'max-sm:hidden',
          )}
          role="toolbar"
          aria-label={t('timeline.selectionToolbar')}
          data-testid="message-selection-toolbar"
        >
          <Button
            size="sm"
            variant="ghost"
            onClick={() =>
              setPicked(allSelected ? new Set() : new Set(timeline.items.map((item) => item.id)))
            }
            data-testid="messages-select-all"
          >
            {allSelected ? <CheckSquare size={14} aria-hidden /> : <Square size={14} aria-hidden />}
            {allSelected ? t('timeline.deselectAll') : t('timeline.selectAll')}
          </Button>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => setPicked((current) => invertSelection(timeline.items, current))}
            data-testid="messages-invert"
          >
            <SquareSplitHorizontal size={14} aria-hidden />
            {t('timeline.invert')}
          </Button>
          {/* Only the selection is spoken as it changes: the message count changes with every
              message arriving and every page of older ones (new messages have their own line). */}
          <span className="flex-1 tabular-nums" data-testid="messages-selection-count">
            <span aria-live="polite">
              {selection.length > 0 ? t('timeline.selected', { count: selection.length }) : ''}
            </span>
            {selection.length > 0 ? null : t('timeline.count', { count: timeline.items.length })}
          </span>
          {selection.length > 0 ? (
            <>
              <Button
                size="sm"
                variant="ghost"
                onClick={() =>
                  void copy(
                    selection.map((item) => item.text ?? '').join('\n\n---\n\n'),
                    t('timeline.copiedSelected', { count: selection.length }),
                  )
                }
                data-testid="messages-copy-selected"
              >
                <Copy size={14} aria-hidden />
                {t('timeline.copySelected')}
              </Button>
              <Button
                size="sm"
                variant="ghost"
                onClick={exportSelection}
                data-testid="messages-export-selected"
              >
                <FileDown size={14} aria-hidden />
                {t('timeline.exportSelected')}
              </Button>
              {canDelete ? (
                <Button
                  size="sm"
                  variant="danger-ghost"
                  disabled={deleting}
                  onClick={() => (prefs.confirmMessageDelete ? setConfirmBulk(true) : void deleteSelection())}
                  data-testid="messages-delete-selected"
                >
                  <Trash2 size={14} aria-hidden />
                  {t('timeline.deleteSelected')}
                </Button>
              ) : null}
            </>
          ) : null}
        </div>
      ) : null}
      <div
        ref={scroller}
        onScroll={onScroll}
        // The reader scrolls by hand: a row that just got focus is no longer held in view.
        onWheel={() => (keptInViewUntil.current = 0)}
        onTouchMove={() => (keptInViewUntil.current = 0)}
        onPointerDown={() => (keptInViewUntil.current = 0)}
        className="relative min-h-0 flex-1 overflow-y-auto"
        data-testid="message-list"
      >
        <div ref={content} className="mx-auto flex w-full max-w-3xl flex-col gap-1 px-3 py-4 sm:px-5">
          <div ref={topSentinel} aria-hidden className="h-px" />
          {timeline.hasMore ? (
            <div className="flex justify-center py-2">
              {timeline.loadingOlder ? (
                <span role="status" className="flex items-center gap-2 text-xs text-muted">
                  <Spinner size={13} />
                  {t('timeline.loadingOlder')}
                </span>
              ) : (
                <Button size="sm" variant="ghost" onClick={() => void loadOlder()} data-testid="load-older">
                  {t('timeline.loadOlder')}
                </Button>
              )}
            </div>
          ) : timeline.items.length > 0 ? (
            <p className="py-3 text-center text-xs text-faint">{t('timeline.start')}</p>
          ) : null}
          {timeline.status === 'loading' && timeline.items.length === 0 ? (
            <div className="flex flex-1 items-center justify-center gap-2 py-16 text-sm text-muted">
              <Spinner />
              {t('timeline.loading')}
            </div>
          ) : timeline.status === 'error' ? (
            <div className="flex flex-col items-center gap-3 py-16 text-sm text-muted" role="alert">
              {t('timeline.error')}
              <Button size="sm" onClick={() => void timeline.reload()}>
                {t('common.retry')}
              </Button>
            </div>
          ) : timeline.items.length === 0 ? (
            <div
              className="flex flex-col items-center gap-2 py-20 text-center text-sm text-muted"
              data-testid="timeline-empty"
            >
              <MessageSquareDashed size={28} aria-hidden className="text-faint" />
              <p className="font-medium text-fg">{t('timeline.emptyTitle')}</p>
              <p>{t('timeline.emptyBody')}</p>
            </div>
          ) : (
            <div
              ref={list}
              className="relative w-full"
              style={{ height: virtualizer.getTotalSize() }}
              role="feed"
              aria-label={t('timeline.label')}
              aria-busy={timeline.loadingOlder}
              onFocus={onFeedFocus}
              onKeyDown={onFeedKeyDown}
            >
              {visible.map((row) => {
                const message = items[row.index]!;
                return (
                  <div
                    key={row.key}
                    data-index={row.index}
                    ref={virtualizer.measureElement}
                    className="absolute top-0 left-0 flow-root w-full"
                    style={{ transform: `translateY(${row.start - listTop}px)` }}
                  >
                    <MessageItem
                      message={message}
                      previous={items[row.index - 1]}
                      onDeleted={timeline.remove}
                      onUpdated={timeline.upsert}
                      selected={picked.has(message.id)}
                      onToggleSelect={toggle}
                      posinset={row.index + 1}
                      setsize={timeline.hasMore ? -1 : items.length}
                      tabbable={row.index === tabbableIndex}
                    />
                  </div>
                );
              })}
            </div>
          )}
        </div>
      </div>
      <div
        className="sr-only"
        role="status"
        aria-live="polite"
        aria-atomic="true"
        data-testid="message-announcer"
      >
        {announcement}
      </div>
      {!atBottom && timeline.items.length > 0 ? (
        <Button
          size="sm"
          className="absolute right-4 bottom-3 rounded-full shadow-card"
          onClick={() => {
            // Follow the bottom from now on: rows measured on the way change the list's height,
            // so the scroll handler and the resize observer keep going until the end is reached.
            atBottomRef.current = true;
            scroller.current?.scrollTo({ top: scroller.current.scrollHeight, behavior: 'smooth' });
          }}
          data-testid="jump-to-latest"
        >
          <ArrowDown size={14} aria-hidden />
          {t('timeline.jump')}
        </Button>
      ) : null}
      {dragging ? (
        <div className="pointer-events-none absolute inset-2 flex flex-col items-center justify-center gap-2 rounded-xl border-2 border-dashed border-accent bg-accent-soft/85 text-sm font-medium text-accent-text">
          <FileUp size={26} aria-hidden />
          {t('files.dropHere')}
        </div>
      ) : null}
      <ConfirmDeleteDialog
        open={confirmBulk}
        onOpenChange={setConfirmBulk}
        title={t('timeline.deleteSelectedTitle', { count: selection.length })}
        description={t('timeline.deleteSelectedBody')}
        busy={deleting}
        onConfirm={() => void deleteSelection()}
        testId="messages-delete-dialog"
        confirmTestId="messages-delete-confirm"
      />
    </div>
  );
}
