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
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from 'react';

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
import { useRoom } from './room-context';
import type { Timeline as TimelineModel } from './useTimeline';
import { useVirtualList } from './useVirtualList';

/** Message rows: about 60 px for one line until measured, 4 px apart. */
const MESSAGE_ROWS = { estimate: 60, gap: 4, overscan: 4 } as const;
/** The performance mark of the room's first messages on screen (e2e/room-open, docs/BENCHMARKS.md). */
export const MESSAGES_VISIBLE_MARK = 'room:messages-visible';
let messagesShown = false;

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
  const {
    virtualizer,
    listRef: list,
    listTop,
  } = useVirtualList<HTMLDivElement>(scroller, items, MESSAGE_ROWS);
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
          <span className="flex-1 tabular-nums" aria-live="polite" data-testid="messages-selection-count">
            {selection.length > 0
              ? t('timeline.selected', { count: selection.length })
              : t('timeline.count', { count: timeline.items.length })}
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
        className="relative min-h-0 flex-1 overflow-y-auto"
        data-testid="message-list"
        aria-label={t('timeline.label')}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
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
            <div ref={list} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
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
                    />
                  </div>
                );
              })}
            </div>
          )}
        </div>
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
