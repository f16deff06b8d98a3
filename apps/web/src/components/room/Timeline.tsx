'use client';

import { ArrowDown, FileUp, MessageSquareDashed } from 'lucide-react';
import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';

import { useT } from '@/lib/i18n';

import { Button } from '../ui/button';
import { Spinner } from '../ui/misc';
import { MessageItem } from './MessageItem';
import { useRoom } from './room-context';
import type { Timeline as TimelineModel } from './useTimeline';

const NEAR = 120;

export function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

export function Timeline({ timeline }: { timeline: TimelineModel }) {
  const t = useT();
  const { upload, canEdit } = useRoom();
  const scroller = useRef<HTMLDivElement>(null);
  const topSentinel = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [dragging, setDragging] = useState(false);
  const anchor = useRef<{ firstId: number | undefined; height: number; top: number } | null>(null);
  const initialised = useRef(false);
  const lastId = timeline.items[timeline.items.length - 1]?.id;
  const firstId = timeline.items[0]?.id;

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

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < NEAR);
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
      <div
        ref={scroller}
        onScroll={onScroll}
        className="min-h-0 flex-1 overflow-y-auto"
        data-testid="message-list"
        aria-label={t('timeline.label')}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
      >
        <div className="mx-auto flex w-full max-w-3xl flex-col gap-1 px-3 py-4 sm:px-5">
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
            timeline.items.map((message, index) => (
              <MessageItem
                key={message.id}
                message={message}
                previous={timeline.items[index - 1]}
                onDeleted={timeline.remove}
                onUpdated={timeline.upsert}
              />
            ))
          )}
        </div>
      </div>
      {!atBottom && timeline.items.length > 0 ? (
        <Button
          size="sm"
          className="absolute right-4 bottom-3 rounded-full shadow-card"
          onClick={() =>
            scroller.current?.scrollTo({ top: scroller.current.scrollHeight, behavior: 'smooth' })
          }
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
    </div>
  );
}
