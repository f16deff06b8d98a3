'use client';

import { clsx } from 'clsx';
import { Copy, Pencil, Trash2 } from 'lucide-react';
import { memo, useState, type KeyboardEvent } from 'react';

import { getApi } from '@/lib/api-client';
import type { ContentView } from '@elizabeth/protocol';
import { errorMessage } from '@/lib/errors';
import { formatFullTime, formatTime, parseTimestamp } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import { usePrefs } from '@/lib/prefs';

import { Button, IconButton } from '../ui/button';
import { ConfirmDeleteDialog } from '../ui/confirm-delete-dialog';
import { Textarea } from '../ui/input';
import { Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { Markdown } from './Markdown';
import { useRoom } from './room-context';

export const MessageItem = memo(function MessageItem({
  message,
  previous,
  onDeleted,
  onUpdated,
  selected,
  onToggleSelect,
  posinset,
  setsize,
  tabbable = false,
}: {
  message: ContentView;
  previous: ContentView | undefined;
  onDeleted: (id: number) => void;
  onUpdated: (message: ContentView) => void;
  selected: boolean;
  onToggleSelect: (id: number) => void;
  /** Its place in the feed (1-based) and the feed's size (-1 while older messages are not loaded). */
  posinset?: number;
  setsize?: number;
  /** The feed's one article reached with Tab (roving tabindex); the others are reached by keys. */
  tabbable?: boolean;
}) {
  const { t, locale } = useI18n();
  const { slug, canEdit, canDelete, copy } = useRoom();
  const prefs = usePrefs();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const text = message.text ?? '';
  const edited = parseTimestamp(message.updated_at) - parseTimestamp(message.created_at) > 1000;
  const grouped =
    previous !== undefined &&
    previous.author_id === message.author_id &&
    parseTimestamp(message.created_at) - parseTimestamp(previous.created_at) < 5 * 60_000;

  async function save() {
    const next = draft.trim();
    if (!next || next === text) {
      setEditing(false);
      return;
    }
    setBusy(true);
    try {
      onUpdated(await getApi().updateContent(slug, message.id, { text: next }));
      setEditing(false);
    } catch (error) {
      toast.error(t('message.editFailed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await getApi().deleteContents(slug, [message.id]);
      onDeleted(message.id);
      setConfirming(false);
    } catch (error) {
      toast.error(t('message.deleteFailed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      setEditing(false);
    }
  }

  return (
    <article
      className={clsx(
        'group relative rounded-xl px-3 pt-1 pb-2 transition-colors outline-none hover:bg-subtle/70 focus-within:bg-subtle/70 focus-visible:ring-2 focus-visible:ring-accent',
        !grouped && 'mt-2',
        selected && 'bg-accent-soft ring-2 ring-accent/60 hover:bg-accent-soft',
      )}
      data-testid={`message-${message.id}`}
      tabIndex={tabbable ? 0 : -1}
      aria-posinset={posinset}
      aria-setsize={setsize}
      aria-label={t('message.label', { time: formatFullTime(message.created_at, locale) })}
    >
      <header className="mb-0.5 flex h-7 items-center gap-2 text-xs text-faint">
        <input
          type="checkbox"
          checked={selected}
          onChange={() => onToggleSelect(message.id)}
          aria-label={t('message.select')}
          className={clsx(
            'h-3.5 w-3.5 shrink-0 accent-[var(--accent)] transition-opacity',
            !selected && 'md:opacity-0 md:group-hover:opacity-100 md:group-focus-within:opacity-100',
          )}
          data-testid="message-checkbox"
        />
        {message.author_name ? (
          <span className="max-w-[16rem] truncate font-medium text-muted" data-testid="message-author">
            {message.author_name}
          </span>
        ) : null}
        <time
          dateTime={message.created_at}
          title={formatFullTime(message.created_at, locale)}
          className="tabular-nums"
        >
          {formatTime(message.created_at, locale)}
        </time>
        {edited ? (
          <span title={formatFullTime(message.updated_at, locale)}>· {t('message.edited')}</span>
        ) : null}
        {/* In the header row, never over the content (a code block's Copy) nor clipped at the top
            of the list. Shown on hover, on focus, and on a phone when the message is tapped. */}
        {!editing ? (
          <div
            className="pointer-events-none ml-auto flex items-center gap-0.5 opacity-0 transition-opacity group-focus-within:pointer-events-auto group-focus-within:opacity-100 md:group-hover:pointer-events-auto md:group-hover:opacity-100"
            data-testid="message-actions"
          >
            <IconButton
              size="icon-sm"
              label={t('message.copy')}
              onClick={() => void copy(text, t('message.copied'))}
              data-testid="message-copy"
            >
              <Copy size={14} aria-hidden />
            </IconButton>
            {canEdit ? (
              <IconButton
                size="icon-sm"
                label={t('message.edit')}
                onClick={() => {
                  setDraft(text);
                  setEditing(true);
                }}
                data-testid="message-edit"
              >
                <Pencil size={14} aria-hidden />
              </IconButton>
            ) : null}
            {canDelete ? (
              <IconButton
                size="icon-sm"
                variant="danger-ghost"
                label={t('message.delete')}
                onClick={() => (prefs.confirmMessageDelete ? setConfirming(true) : void remove())}
                data-testid="message-delete"
              >
                <Trash2 size={14} aria-hidden />
              </IconButton>
            ) : null}
          </div>
        ) : null}
      </header>
      {editing ? (
        <div className="flex flex-col gap-2">
          <label htmlFor={`edit-${message.id}`} className="sr-only">
            {t('message.editLabel')}
          </label>
          <Textarea
            id={`edit-${message.id}`}
            autoFocus
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={onKeyDown}
            rows={Math.min(12, Math.max(3, draft.split('\n').length + 1))}
            className="font-mono text-[0.8125rem]"
            data-testid="message-edit-input"
          />
          <div className="flex items-center justify-end gap-2">
            <span className="mr-auto text-xs text-faint">{t('message.editHint')}</span>
            <Button size="sm" onClick={() => setEditing(false)}>
              {t('common.cancel')}
            </Button>
            <Button
              size="sm"
              variant="primary"
              disabled={busy || !draft.trim()}
              onClick={() => void save()}
              data-testid="message-edit-save"
            >
              {busy ? <Spinner size={13} className="text-current" /> : null}
              {t('common.save')}
            </Button>
          </div>
        </div>
      ) : (
        <div className="text-[0.9375rem] text-fg" data-testid={`message-content-${message.id}`}>
          <Markdown text={text} />
        </div>
      )}
      <ConfirmDeleteDialog
        open={confirming}
        onOpenChange={setConfirming}
        title={t('message.deleteTitle')}
        description={t('message.deleteBody')}
        busy={busy}
        onConfirm={() => void remove()}
        testId="message-delete-dialog"
        confirmTestId="message-delete-confirm"
      />
    </article>
  );
});
