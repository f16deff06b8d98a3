'use client';

import { useQueryClient } from '@tanstack/react-query';
import { clsx } from 'clsx';
import {
  Archive,
  Download,
  ExternalLink,
  FolderUp,
  Link2,
  Pencil,
  Plus,
  SquareSplitHorizontal,
  Trash2,
  Upload,
  X,
} from 'lucide-react';
import {
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type DragEvent,
  type FocusEvent,
  type KeyboardEvent,
  type ReactNode,
} from 'react';

import { getApi } from '@/lib/api-client';
import type { ContentView } from '@elizabeth/protocol';
import { downloadArchive, downloadContent } from '@/lib/download';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatTime, parseTimestamp } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import { updateRoomFiles } from '@/lib/room-files';
import { isHttpUrl } from '@/lib/safe-url';
import { invertSelection } from '@/lib/selection';

import { Button, IconButton } from '../ui/button';
import { ConfirmDeleteDialog } from '../ui/confirm-delete-dialog';
import { FileName, Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { useContentBlob } from './AuthImage';
import { displayName, fileIcon, previewKind } from './file-kind';
import { LinkDialog } from './LinkDialog';
import { hasFiles } from './Timeline';
import { TransferPanel } from './TransferPanel';
import { StorageBar } from './RoomControls';
import { useRoom } from './room-context';
import { rowIndexOf, rowItemId, useVirtualList } from './useVirtualList';

/** File rows: 48 px high (a 2rem thumbnail and its padding), 2 px apart, 16 px below the last. */
const FILE_ROWS = { estimate: 48, gap: 2, overscan: 3, paddingEnd: 16 } as const;

export function FilesPanel({
  files,
  loading,
  error,
}: {
  files: ContentView[];
  loading: boolean;
  error: unknown;
}) {
  const { t, locale } = useI18n();
  const { slug, room, canEdit, canDelete, upload, preview } = useRoom();
  const toast = useToast();
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [dragging, setDragging] = useState(false);
  const [linkDialog, setLinkDialog] = useState<{ open: boolean; editing?: ContentView }>({ open: false });
  const [confirm, setConfirm] = useState<number[] | null>(null);
  const [deleting, setDeleting] = useState(false);
  // A zip of selected files holds only those files unless the user asks for messages.md too.
  const [zipMessages, setZipMessages] = useState(false);

  const sorted = useMemo(
    () =>
      [...files].sort((a, b) => parseTimestamp(b.created_at) - parseTimestamp(a.created_at) || b.id - a.id),
    [files],
  );
  const ids = new Set(sorted.map((item) => item.id));
  const selection = [...selected].filter((id) => ids.has(id));
  const allSelected = sorted.length > 0 && selection.length === sorted.length;
  const selectedFiles = sorted.filter((item) => selected.has(item.id) && item.content_type !== 'url');

  // Only the rows in and near the view are in the page (a room with hundreds of files stays
  // light); `listTop` is where the list starts inside the scroller (below the drop zone).
  const scroller = useRef<HTMLDivElement>(null);
  // Keyboard: the row holding the focus stays rendered wherever the list scrolls (the focus is
  // never dropped); ↑ ↓ Home End move it between rows, to the same control of the row.
  const [activeId, setActiveId] = useState<number | null>(null);
  const activeIndex = activeId === null ? -1 : sorted.findIndex((item) => item.id === activeId);
  const focusPending = useRef<{ id: number; control: string } | null>(null);
  const {
    virtualizer,
    listRef: list,
    listTop,
  } = useVirtualList<HTMLUListElement>(
    scroller,
    sorted,
    FILE_ROWS,
    activeIndex >= 0 ? activeIndex : undefined,
  );

  useLayoutEffect(() => {
    const pending = focusPending.current;
    if (!pending) return;
    const row = list.current?.querySelector<HTMLElement>(`[data-testid="file-item-${pending.id}"]`);
    if (!row) return;
    focusPending.current = null;
    const control =
      row.querySelector<HTMLElement>(`[data-testid="${pending.control}"]`) ??
      row.querySelector<HTMLElement>('[data-testid="file-open"]');
    control?.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  });

  function onListFocus(event: FocusEvent<HTMLUListElement>) {
    const id = rowItemId(event.target, sorted);
    if (id !== undefined && id !== activeId) setActiveId(id);
  }

  function onListKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const target = event.target as HTMLElement;
    const index = rowIndexOf(target);
    const control = target.dataset.testid;
    if (index === undefined || !control) return;
    const next =
      event.key === 'ArrowDown'
        ? index + 1
        : event.key === 'ArrowUp'
          ? index - 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? sorted.length - 1
              : undefined;
    if (next === undefined) return;
    event.preventDefault();
    const item = sorted[Math.max(0, Math.min(next, sorted.length - 1))];
    if (!item) return;
    focusPending.current = { id: item.id, control };
    setActiveId(item.id);
  }

  function toggle(id: number) {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  function onDrop(event: DragEvent) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    upload(Array.from(event.dataTransfer.files));
  }

  async function remove(targets: number[]) {
    setDeleting(true);
    try {
      await getApi().deleteContents(slug, targets);
      updateRoomFiles(queryClient, slug, (list) => list.filter((item) => !targets.includes(item.id)));
      void queryClient.invalidateQueries({ queryKey: ['room', slug] });
      setSelected((current) => new Set([...current].filter((id) => !targets.includes(id))));
      toast.success(t('files.deleted', { count: targets.length }));
      setConfirm(null);
    } catch (err) {
      toast.error(t('files.deleteFailed'), errorMessage(t, err));
    } finally {
      setDeleting(false);
    }
  }

  function download(item: ContentView) {
    downloadContent(slug, item).catch((err: unknown) =>
      toast.error(t('files.downloadFailed', { name: displayName(item) }), errorMessage(t, err)),
    );
  }

  /** The whole room (files and messages.md), or the selected files with messages.md if chosen. */
  function zip(targets: number[] | undefined, messages: boolean) {
    const stamp = new Date().toISOString().slice(0, 10);
    downloadArchive(
      slug,
      targets,
      targets ? `${room.name}-${stamp}-selection.zip` : `${room.name}-${stamp}.zip`,
      { messages },
    ).catch((err: unknown) => toast.error(t('files.archiveFailed'), errorMessage(t, err)));
  }

  return (
    <div
      className="relative flex min-h-0 w-full flex-col"
      data-testid="files-panel"
      onDragOver={(event) => {
        if (!hasFiles(event) || !canEdit) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <div className="flex items-center gap-1 border-b border-border px-4 py-2.5">
        <h2 className="flex-1 text-sm font-semibold">
          {t('files.title')} <span className="font-normal text-faint tabular-nums">{sorted.length}</span>
        </h2>
        <IconButton label={t('files.export')} onClick={() => zip(undefined, true)} data-testid="export-room">
          <Archive size={16} aria-hidden />
        </IconButton>
        {canEdit ? (
          <>
            <IconButton
              label={t('links.add')}
              onClick={() => setLinkDialog({ open: true })}
              data-testid="add-link"
            >
              <Link2 size={16} aria-hidden />
            </IconButton>
            <Button
              size="sm"
              variant="primary"
              onClick={() => input.current?.click()}
              data-testid="upload-button"
            >
              <Upload size={14} aria-hidden />
              {t('files.upload')}
            </Button>
            <input
              ref={input}
              type="file"
              multiple
              hidden
              data-testid="file-input"
              onChange={(event) => {
                upload(Array.from(event.target.files ?? []));
                event.target.value = '';
              }}
            />
          </>
        ) : null}
      </div>

      <div ref={scroller} className="relative min-h-0 flex-1 overflow-y-auto">
        <div className="px-4 pt-3 md:hidden">
          <StorageBar room={room} compact />
        </div>
        <TransferPanel />
        {canEdit ? (
          <button
            type="button"
            onClick={() => input.current?.click()}
            className={clsx(
              'mx-4 mt-3 flex w-[calc(100%-2rem)] flex-col items-center gap-1 rounded-xl border border-dashed px-4 py-4 text-center text-xs transition-colors',
              dragging
                ? 'border-accent bg-accent-soft text-accent-text'
                : 'border-border-strong text-muted hover:border-accent/60 hover:text-fg',
            )}
            data-testid="drop-zone"
          >
            <FolderUp size={20} aria-hidden />
            <span className="font-medium">{dragging ? t('files.dropHere') : t('files.dropZone')}</span>
            <span className="text-faint">{t('files.dropZoneHint')}</span>
          </button>
        ) : null}

        {sorted.length > 0 ? (
          <div className="flex items-center gap-2 px-4 pt-3 pb-1 text-xs text-muted">
            <input
              type="checkbox"
              id="files-select-all"
              checked={allSelected}
              ref={(node) => {
                if (node) node.indeterminate = selection.length > 0 && !allSelected;
              }}
              onChange={() => setSelected(allSelected ? new Set() : new Set(sorted.map((item) => item.id)))}
              className="h-3.5 w-3.5 accent-[var(--accent)]"
              data-testid="files-select-all"
            />
            <label htmlFor="files-select-all" className="flex-1">
              {selection.length > 0 ? t('files.selected', { count: selection.length }) : t('files.selectAll')}
            </label>
            <Button
              size="sm"
              variant="ghost"
              className="-my-1 h-7"
              onClick={() => setSelected((current) => invertSelection(sorted, current))}
              data-testid="files-invert"
            >
              <SquareSplitHorizontal size={13} aria-hidden />
              {t('files.invert')}
            </Button>
          </div>
        ) : null}

        {loading ? (
          <div className="flex items-center justify-center gap-2 py-10 text-sm text-muted">
            <Spinner />
            {t('common.loading')}
          </div>
        ) : error ? (
          <p className="px-4 py-6 text-sm text-danger" role="alert">
            {errorMessage(t, error)}
          </p>
        ) : sorted.length === 0 ? (
          <p className="px-4 py-10 text-center text-sm text-muted" data-testid="files-empty">
            {t('files.empty')}
          </p>
        ) : (
          <ul
            ref={list}
            className="relative"
            style={{ height: virtualizer.getTotalSize() }}
            data-testid="file-list"
            aria-label={t('files.title')}
            onFocus={onListFocus}
            onKeyDown={onListKeyDown}
          >
            {virtualizer.getVirtualItems().map((row) => {
              const item = sorted[row.index]!;
              const Icon = fileIcon(item);
              const isLink = item.content_type === 'url';
              const name = displayName(item);
              const checked = selected.has(item.id);
              return (
                <li
                  key={row.key}
                  data-index={row.index}
                  ref={virtualizer.measureElement}
                  className={clsx(
                    'group absolute inset-x-2 top-0 flex items-center gap-2.5 rounded-lg px-2 py-2 transition-colors',
                    checked ? 'bg-accent-soft' : 'hover:bg-hover',
                  )}
                  style={{ transform: `translateY(${row.start - listTop}px)` }}
                  aria-posinset={row.index + 1}
                  aria-setsize={sorted.length}
                  data-testid={`file-item-${item.id}`}
                >
                  <input
                    type="checkbox"
                    checked={checked}
                    onChange={() => toggle(item.id)}
                    aria-label={t('files.select', { name })}
                    className="h-3.5 w-3.5 shrink-0 accent-[var(--accent)]"
                    data-testid="file-checkbox"
                  />
                  <button
                    type="button"
                    className="flex min-w-0 flex-1 items-center gap-2.5 rounded-md text-left"
                    onClick={() => preview(item.id)}
                    data-testid="file-open"
                  >
                    <span
                      className={clsx(
                        'flex h-8 w-8 shrink-0 items-center justify-center overflow-hidden rounded-lg border border-border bg-surface',
                        isLink ? 'text-accent-text' : 'text-muted',
                      )}
                    >
                      <FileThumb room={slug} item={item} fallback={<Icon size={16} aria-hidden />} />
                    </span>
                    <span className="min-w-0 flex-1">
                      {isLink ? (
                        <span className="block truncate text-sm font-medium" title={name}>
                          {name}
                        </span>
                      ) : (
                        <FileName name={name} className="text-sm font-medium" />
                      )}
                      <span className="block truncate text-xs text-faint">
                        {isLink
                          ? item.url
                          : `${item.size === null ? t('files.unknownSize') : formatBytes(item.size)} · ${formatTime(item.created_at, locale)}`}
                      </span>
                    </span>
                  </button>
                  <span className="flex shrink-0 items-center opacity-100 transition-opacity md:opacity-0 md:group-hover:opacity-100 md:group-focus-within:opacity-100 [@media(hover:none)]:opacity-100">
                    {isLink ? (
                      <>
                        {item.url && isHttpUrl(item.url) ? (
                          <a
                            href={item.url}
                            target="_blank"
                            rel="noopener noreferrer nofollow"
                            className="flex h-7 w-7 items-center justify-center rounded-md text-muted hover:bg-hover hover:text-fg"
                            aria-label={t('links.open', { name })}
                            title={t('links.open', { name })}
                          >
                            <ExternalLink size={14} aria-hidden />
                          </a>
                        ) : null}
                        {canEdit ? (
                          <IconButton
                            size="icon-sm"
                            label={t('links.edit', { name })}
                            onClick={() => setLinkDialog({ open: true, editing: item })}
                            data-testid="link-edit"
                          >
                            <Pencil size={14} aria-hidden />
                          </IconButton>
                        ) : null}
                      </>
                    ) : (
                      <IconButton
                        size="icon-sm"
                        label={t('files.download', { name })}
                        onClick={() => download(item)}
                        data-testid="file-download"
                      >
                        <Download size={14} aria-hidden />
                      </IconButton>
                    )}
                    {canDelete ? (
                      <IconButton
                        size="icon-sm"
                        variant="danger-ghost"
                        label={t('files.delete', { name })}
                        onClick={() => setConfirm([item.id])}
                        data-testid="file-delete"
                      >
                        <Trash2 size={14} aria-hidden />
                      </IconButton>
                    ) : null}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </div>

      {selection.length > 0 ? (
        <div
          className="flex flex-wrap items-center gap-2 border-t border-border bg-surface px-4 py-2.5"
          data-testid="selection-bar"
        >
          <IconButton size="icon-sm" label={t('files.clearSelection')} onClick={() => setSelected(new Set())}>
            <X size={14} aria-hidden />
          </IconButton>
          <span className="text-xs text-muted tabular-nums">
            {t('files.selected', { count: selection.length })}
          </span>
          <span className="ml-auto" />
          {canDelete ? (
            <Button
              size="sm"
              variant="danger-ghost"
              onClick={() => setConfirm(selection)}
              data-testid="delete-selected"
            >
              <Trash2 size={14} aria-hidden />
              {t('common.delete')}
            </Button>
          ) : null}
          {selectedFiles.length > 1 ? (
            <label
              className="flex items-center gap-1.5 text-xs text-muted"
              title={t('files.zipMessagesHint')}
            >
              <input
                type="checkbox"
                checked={zipMessages}
                onChange={(event) => setZipMessages(event.target.checked)}
                className="h-3.5 w-3.5 accent-[var(--accent)]"
                data-testid="zip-messages"
              />
              {t('files.zipMessages')}
            </label>
          ) : null}
          <Button
            size="sm"
            variant="primary"
            disabled={selectedFiles.length === 0}
            onClick={() =>
              selectedFiles.length === 1
                ? download(selectedFiles[0]!)
                : zip(
                    selectedFiles.map((item) => item.id),
                    zipMessages,
                  )
            }
            data-testid="download-selected"
          >
            <Download size={14} aria-hidden />
            {selectedFiles.length > 1
              ? t('files.downloadZip', { count: selectedFiles.length })
              : t('files.downloadOne')}
          </Button>
        </div>
      ) : null}

      {dragging ? (
        <div className="pointer-events-none absolute inset-2 flex flex-col items-center justify-center gap-2 rounded-xl border-2 border-dashed border-accent bg-accent-soft/85 text-sm font-medium text-accent-text">
          <Plus size={24} aria-hidden />
          {t('files.dropHere')}
        </div>
      ) : null}

      <LinkDialog
        open={linkDialog.open}
        editing={linkDialog.editing}
        onOpenChange={(open) => setLinkDialog((state) => ({ ...state, open }))}
      />
      <ConfirmDeleteDialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        title={t('files.confirmTitle', { count: confirm?.length ?? 0 })}
        description={
          confirm?.length === 1
            ? t('files.confirmOne', {
                name: (() => {
                  const target = sorted.find((item) => item.id === confirm[0]);
                  return target ? displayName(target) : '';
                })(),
              })
            : t('files.confirmMany', { count: confirm?.length ?? 0 })
        }
        busy={deleting}
        onConfirm={() => confirm && void remove(confirm)}
        testId="file-delete-dialog"
        confirmTestId="file-delete-confirm"
      />
    </div>
  );
}

/** Images up to this size get a thumbnail in the list (fetched once with the token, shown as a blob). */
const THUMBNAIL_MAX_BYTES = 4 * 1024 * 1024;

function FileThumb({ room, item, fallback }: { room: string; item: ContentView; fallback: ReactNode }) {
  const wanted =
    previewKind(item) === 'image' && item.size !== null && item.size > 0 && item.size <= THUMBNAIL_MAX_BYTES;
  const { url } = useContentBlob(room, item.id, { enabled: wanted });
  if (!wanted || !url) return fallback;
  return (
    // eslint-disable-next-line @next/next/no-img-element
    <img src={url} alt="" className="h-full w-full object-cover" data-testid="file-thumbnail" />
  );
}
