'use client';

import {
  ArrowLeftRight,
  ArrowUpDown,
  Copy,
  Download,
  ExternalLink,
  FileQuestion,
  Maximize2,
  Minimize2,
  Link2,
  Pencil,
  RotateCcw,
  RotateCw,
  Trash2,
  ZoomIn,
  ZoomOut,
  MessageSquarePlus,
} from 'lucide-react';
import dynamic from 'next/dynamic';
import { useEffect, useState, type FormEvent } from 'react';

import type { ContentView } from '@elizabeth/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { getApi } from '@/lib/api-client';
import { insertIntoComposer } from '@/lib/composer-insert';
import { downloadContent } from '@/lib/download';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatFullTime } from '@/lib/format';
import { languageForFile } from '@/lib/highlight';
import { useI18n } from '@/lib/i18n';
import { updateRoomFiles } from '@/lib/room-files';
import { roomPath } from '@/lib/room-name';
import { isHttpUrl } from '@/lib/safe-url';

import { Button, IconButton } from '../ui/button';
import { ConfirmDeleteDialog } from '../ui/confirm-delete-dialog';
import { Dialog } from '../ui/dialog';
import { Field, Input } from '../ui/input';
import { Alert, Badge, FileName, Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { useContentBlob } from './AuthImage';
import { CodeBlock } from './CodeBlock';
import { displayName, previewKind, type PreviewKind } from './file-kind';
import { Markdown } from './Markdown';
import { useRoom } from './room-context';

const PdfViewer = dynamic(() => import('./PdfViewer').then((m) => m.PdfViewer), {
  ssr: false,
  loading: () => <Loading />,
});

const TEXT_LIMIT = 512 * 1024;
/** Media above this size is not buffered for preview (the token never goes into a media URL). */
const MEDIA_LIMIT = 512 * 1024 * 1024;

function Loading() {
  const { t } = useI18n();
  return (
    <div className="flex h-full min-h-48 items-center justify-center gap-2 text-sm text-muted">
      <Spinner />
      {t('preview.loading')}
    </div>
  );
}

function ImageViewer({ url, alt }: { url: string; alt: string }) {
  const { t } = useI18n();
  const [zoom, setZoom] = useState(1);
  const [rotation, setRotation] = useState(0);
  const [flipX, setFlipX] = useState(false);
  const [flipY, setFlipY] = useState(false);
  const transform = `scale(${zoom}) rotate(${rotation}deg) scale(${flipX ? -1 : 1}, ${flipY ? -1 : 1})`;
  return (
    <div className="flex h-full flex-col">
      <div className="flex items-center justify-center gap-1 pb-2">
        <IconButton
          size="icon-sm"
          label={t('preview.zoomOut')}
          onClick={() => setZoom((z) => Math.max(0.25, z - 0.25))}
        >
          <ZoomOut size={15} aria-hidden />
        </IconButton>
        <span className="w-12 text-center text-xs text-muted tabular-nums">{Math.round(zoom * 100)}%</span>
        <IconButton
          size="icon-sm"
          label={t('preview.zoomIn')}
          onClick={() => setZoom((z) => Math.min(5, z + 0.25))}
        >
          <ZoomIn size={15} aria-hidden />
        </IconButton>
        {[
          { key: 'rotate-left', icon: RotateCcw, run: () => setRotation((r) => (r + 270) % 360) },
          { key: 'rotate-right', icon: RotateCw, run: () => setRotation((r) => (r + 90) % 360) },
          { key: 'flip-horizontal', icon: ArrowLeftRight, run: () => setFlipX((v) => !v), pressed: flipX },
          { key: 'flip-vertical', icon: ArrowUpDown, run: () => setFlipY((v) => !v), pressed: flipY },
        ].map(({ key, icon: Icon, run, pressed }) => (
          <IconButton
            key={key}
            size="icon-sm"
            label={t(`preview.tool.${key}`)}
            aria-pressed={pressed}
            onClick={run}
            data-testid={`preview-${key}`}
          >
            <Icon size={15} aria-hidden />
          </IconButton>
        ))}
        <Button
          size="sm"
          variant="ghost"
          onClick={() => {
            setZoom(1);
            setRotation(0);
            setFlipX(false);
            setFlipY(false);
          }}
        >
          {t('preview.reset')}
        </Button>
      </div>
      <div className="flex min-h-0 flex-1 items-center justify-center overflow-auto rounded-lg bg-subtle p-2">
        {/* eslint-disable-next-line @next/next/no-img-element */}
        <img
          src={url}
          alt={alt}
          style={{ transform }}
          className="max-h-full max-w-full object-contain transition-transform duration-200"
          data-testid="preview-image"
        />
      </div>
    </div>
  );
}

function TextViewer({ blob, name, kind }: { blob: Blob; name: string; kind: PreviewKind }) {
  const { t } = useI18n();
  const [text, setText] = useState<string | null>(null);
  const [source, setSource] = useState(false);
  useEffect(() => {
    void blob.text().then(setText);
  }, [blob]);
  if (text === null) return <Loading />;
  if (!text) return <p className="py-10 text-center text-sm text-muted">{t('preview.empty')}</p>;
  const truncated = blob.size >= TEXT_LIMIT;
  return (
    <div className="flex flex-col gap-2" data-testid="preview-text">
      {kind === 'markdown' ? (
        <div className="flex justify-end">
          <Button size="sm" variant="ghost" onClick={() => setSource((v) => !v)}>
            {source ? t('preview.rendered') : t('preview.source')}
          </Button>
        </div>
      ) : null}
      {kind === 'markdown' && !source ? (
        <div className="rounded-lg border border-border p-4 text-sm">
          <Markdown text={text} />
        </div>
      ) : kind === 'code' || kind === 'markdown' ? (
        <CodeBlock code={text} lang={kind === 'markdown' ? 'markdown' : languageForFile(name)} />
      ) : (
        <pre className="rounded-lg border border-border bg-subtle p-3 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap">
          {text}
        </pre>
      )}
      {truncated ? (
        <p className="text-xs text-muted">{t('preview.truncated', { size: formatBytes(TEXT_LIMIT) })}</p>
      ) : null}
    </div>
  );
}

function FileBody({ content, kind }: { content: ContentView; kind: PreviewKind }) {
  const { t } = useI18n();
  const { slug } = useRoom();
  const size = content.size ?? 0;
  const textual = kind === 'markdown' || kind === 'code' || kind === 'text';
  const mediaTooBig =
    (kind === 'video' || kind === 'audio' || kind === 'image' || kind === 'pdf') && size > MEDIA_LIMIT;
  const enabled = kind !== 'none' && kind !== 'link' && !mediaTooBig;
  const { url, blob, error, loading } = useContentBlob(slug, content.id, {
    enabled,
    ...(textual && size > TEXT_LIMIT ? { range: `bytes=0-${TEXT_LIMIT - 1}` } : {}),
  });
  if (!enabled) {
    return (
      <div
        className="flex flex-col items-center gap-2 py-14 text-center text-sm text-muted"
        data-testid="preview-unsupported"
      >
        <FileQuestion size={32} aria-hidden className="text-faint" />
        <p className="font-medium text-fg">
          {mediaTooBig ? t('preview.tooLarge') : t('preview.unsupported')}
        </p>
        <p>{t('preview.downloadInstead')}</p>
      </div>
    );
  }
  if (loading) return <Loading />;
  if (error || !url || !blob)
    return (
      <Alert>
        {t('preview.failed')} {error ? errorMessage(t, error) : ''}
      </Alert>
    );
  const name = displayName(content);
  switch (kind) {
    case 'image':
      return <ImageViewer url={url} alt={name} />;
    case 'pdf':
      return <PdfViewer blob={blob} />;
    case 'video':
      return (
        <video
          src={url}
          controls
          className="max-h-full w-full rounded-lg bg-black"
          data-testid="preview-video"
        />
      );
    case 'audio':
      return <audio src={url} controls className="w-full" data-testid="preview-audio" />;
    default:
      return <TextViewer blob={blob} name={name} kind={kind} />;
  }
}

function LinkBody({ content }: { content: ContentView }) {
  const { t } = useI18n();
  const safe = content.url && isHttpUrl(content.url) ? content.url : undefined;
  return (
    <div className="flex flex-col gap-3 py-2 text-sm" data-testid="preview-link">
      <p className="font-mono text-xs break-all text-muted">{content.url}</p>
      {content.text ? <p className="whitespace-pre-wrap">{content.text}</p> : null}
      {safe ? (
        <a
          href={safe}
          target="_blank"
          rel="noopener noreferrer nofollow"
          className="inline-flex items-center gap-1.5 self-start rounded-lg bg-accent px-3 py-2 text-sm font-medium text-accent-fg hover:bg-accent-hover"
        >
          <ExternalLink size={14} aria-hidden />
          {t('links.openNewTab')}
        </a>
      ) : null}
    </div>
  );
}

export function PreviewDialog({ content, onClose }: { content: ContentView; onClose: () => void }) {
  const { t, locale } = useI18n();
  const { slug, canDelete, canEdit, copy } = useRoom();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [full, setFull] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [renaming, setRenaming] = useState<string | null>(null);
  const kind = previewKind(content);
  const name = displayName(content);
  const isLink = kind === 'link';
  const reference = `${kind === 'image' ? '!' : ''}[${name.replace(/[[\]]/g, '')}](/contents/${content.id})`;

  async function rename(event: FormEvent) {
    event.preventDefault();
    const next = renaming?.trim();
    if (!next || next === content.file_name) {
      setRenaming(null);
      return;
    }
    setBusy(true);
    try {
      const updated = await getApi().updateContent(slug, content.id, { file_name: next });
      updateRoomFiles(queryClient, slug, (list) =>
        list.map((item) => (item.id === updated.id ? updated : item)),
      );
      toast.success(t('preview.renamed'));
      setRenaming(null);
    } catch (error) {
      toast.error(t('preview.renameFailed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await getApi().deleteContents(slug, [content.id]);
      updateRoomFiles(queryClient, slug, (list) => list.filter((item) => item.id !== content.id));
      void queryClient.invalidateQueries({ queryKey: ['room', slug] });
      toast.success(t('files.deleted', { count: 1 }));
      onClose();
    } catch (error) {
      toast.error(t('files.deleteFailed'), errorMessage(t, error));
      setBusy(false);
    }
  }

  return (
    <Dialog
      open
      onOpenChange={(open) => (open ? undefined : onClose())}
      size={full ? 'full' : 'xl'}
      testId="preview-dialog"
      title={
        <span className="flex min-w-0 items-center gap-2">
          <Badge>{t(`preview.kind.${kind}`)}</Badge>
          {isLink ? (
            <span className="truncate" title={name} data-testid="preview-title">
              {name}
            </span>
          ) : (
            <FileName name={name} testId="preview-title" />
          )}
        </span>
      }
      description={[
        content.size !== null && !isLink ? formatBytes(content.size) : null,
        formatFullTime(content.created_at, locale),
      ]
        .filter(Boolean)
        .join(' · ')}
      footer={
        <>
          {canDelete ? (
            <Button
              variant="danger-ghost"
              size="sm"
              className="mr-auto"
              onClick={() => setConfirming(true)}
              data-testid="preview-delete"
            >
              <Trash2 size={14} aria-hidden />
              {t('common.delete')}
            </Button>
          ) : (
            <span className="mr-auto" />
          )}
          {!isLink && canEdit ? (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => setRenaming(content.file_name ?? '')}
              data-testid="preview-rename"
            >
              <Pencil size={14} aria-hidden />
              {t('preview.rename')}
            </Button>
          ) : null}
          {!isLink && canEdit ? (
            <Button
              size="sm"
              onClick={() => {
                insertIntoComposer(slug, reference);
                toast.success(t('preview.inserted'));
                onClose();
              }}
              data-testid="preview-insert"
            >
              <MessageSquarePlus size={14} aria-hidden />
              {t('preview.insert')}
            </Button>
          ) : null}
          {!isLink ? (
            <Button
              size="sm"
              onClick={() =>
                void copy(
                  `${window.location.origin}${roomPath(slug)}#file=${content.id}`,
                  t('preview.linkCopied'),
                )
              }
              data-testid="preview-copy-link"
              title={t('preview.copyLinkHint')}
            >
              <Link2 size={14} aria-hidden />
              {t('preview.copyLink')}
            </Button>
          ) : null}
          {!isLink ? (
            <Button
              size="sm"
              onClick={() => void copy(reference, t('preview.referenceCopied'))}
              data-testid="preview-copy-reference"
              title={t('preview.copyReferenceHint')}
            >
              <Copy size={14} aria-hidden />
              {t('preview.copyReference')}
            </Button>
          ) : (
            <Button size="sm" onClick={() => void copy(content.url ?? '', t('links.copied'))}>
              <Copy size={14} aria-hidden />
              {t('links.copy')}
            </Button>
          )}
          {!isLink ? (
            <Button
              size="sm"
              variant="primary"
              onClick={() =>
                void downloadContent(slug, content).catch((err: unknown) =>
                  toast.error(t('files.downloadFailed', { name }), errorMessage(t, err)),
                )
              }
              data-testid="preview-download"
            >
              <Download size={14} aria-hidden />
              {t('preview.download')}
            </Button>
          ) : null}
        </>
      }
    >
      <div className="absolute top-3.5 right-12 max-sm:hidden">
        <IconButton
          size="icon-sm"
          label={full ? t('preview.exitFullscreen') : t('preview.fullscreen')}
          onClick={() => setFull((v) => !v)}
        >
          {full ? <Minimize2 size={14} aria-hidden /> : <Maximize2 size={14} aria-hidden />}
        </IconButton>
      </div>
      <div className={full ? 'h-full' : 'h-[min(65dvh,40rem)]'}>
        {isLink ? <LinkBody content={content} /> : <FileBody content={content} kind={kind} />}
      </div>
      <Dialog
        open={renaming !== null}
        onOpenChange={(open) => !busy && !open && setRenaming(null)}
        title={t('preview.renameTitle')}
        size="sm"
        testId="rename-dialog"
      >
        <form onSubmit={rename} className="flex flex-col gap-3" noValidate>
          <Field label={t('preview.newName')} htmlFor="rename-input">
            <Input
              id="rename-input"
              autoFocus
              value={renaming ?? ''}
              maxLength={255}
              onChange={(event) => setRenaming(event.target.value)}
              data-testid="rename-input"
            />
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={() => setRenaming(null)} disabled={busy}>
              {t('common.cancel')}
            </Button>
            <Button
              type="submit"
              variant="primary"
              disabled={busy || !renaming?.trim()}
              data-testid="rename-submit"
            >
              {busy ? <Spinner size={13} className="text-current" /> : null}
              {t('common.save')}
            </Button>
          </div>
        </form>
      </Dialog>
      <ConfirmDeleteDialog
        open={confirming}
        onOpenChange={setConfirming}
        title={t('files.confirmTitle', { count: 1 })}
        description={t('files.confirmOne', { name })}
        busy={busy}
        onConfirm={() => void remove()}
        testId="preview-delete-dialog"
        confirmTestId="preview-delete-confirm"
      />
    </Dialog>
  );
}
