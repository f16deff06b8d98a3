'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';

import type { CreateShareLinkBody, ShareLinkView } from '@elizabeth/protocol';
import { Permission } from '@elizabeth/protocol/constants';
import { getApi } from '@/lib/api-client';
import { errorMessage } from '@/lib/errors';
import { useRoomFiles } from '@/lib/room-files';
import { useT } from '@/lib/i18n';

import { Button } from '../ui/button';
import { Input, selectClass } from '../ui/input';
import { Badge, Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { useRoom } from './room-context';
import { useQrCode } from './SharePanel';

const EXPIRIES = [
  { key: 'expiresRoom', seconds: undefined },
  { key: 'hour', seconds: 3600 },
  { key: 'day', seconds: 86400 },
  { key: 'week', seconds: 7 * 86400 },
] as const;

/** Managers: the room's share links (uses and downloads left, QR, revoke) and a form to add one. */
/** Up to this many files the picker lists them from the start. */
const EAGER_PICKER_FILES = 50;

export function ShareLinksPanel() {
  const t = useT();
  const { slug } = useRoom();
  const toast = useToast();
  const query = useQuery({
    queryKey: ['share-links', slug],
    queryFn: () => getApi().listShareLinks(slug),
  });
  // The room's live file list (the files panel's query): a file that arrives while the panel is
  // open can be shared at once; a link is for a stored file, not a web link.
  const files = useRoomFiles(slug);
  const linkable = useMemo(
    () => (files.data ?? []).filter((item) => item.content_type !== 'url'),
    [files.data],
  );
  // A long file list fills the picker once it is used: hundreds of options stay out of the page
  // until then (issue 17: a room with 200 files renders ≤ 1 500 elements); a short one is there.
  const [pickerUsed, setPickerUsed] = useState(false);
  const listAll = pickerUsed || linkable.length <= EAGER_PICKER_FILES;
  const openPicker = () => setPickerUsed(true);
  const [view, setView] = useState(true);
  const [edit, setEdit] = useState(false);
  const [expiry, setExpiry] = useState(0);
  const [maxUses, setMaxUses] = useState('');
  const [fileId, setFileId] = useState('');
  const [maxDownloads, setMaxDownloads] = useState('');
  const [burn, setBurn] = useState(false);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent) {
    event.preventDefault();
    const body: CreateShareLinkBody = {
      permission: fileId ? Permission.VIEW : (view ? Permission.VIEW : 0) | (edit ? Permission.EDIT : 0),
    };
    const seconds = EXPIRIES[expiry]?.seconds;
    if (seconds) body.expires_in_seconds = seconds;
    if (maxUses) body.max_uses = Number(maxUses);
    if (fileId) {
      body.content_ids = [Number(fileId)];
      if (maxDownloads) body.max_downloads = Number(maxDownloads);
      if (maxDownloads && burn) body.burn_after_reading = true;
    }
    setBusy(true);
    try {
      await getApi().createShareLink(slug, body);
      toast.success(t('shareLinks.created'));
      await query.refetch();
    } catch (error) {
      toast.error(t('shareLinks.failed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: number) {
    try {
      await getApi().revokeShareLink(slug, id);
      toast.success(t('shareLinks.revoked'));
      await query.refetch();
    } catch (error) {
      toast.error(t('shareLinks.failed'), errorMessage(t, error));
    }
  }

  return (
    <div className="flex flex-col gap-3 text-xs">
      <form className="flex flex-col gap-2" onSubmit={(e) => void create(e)} data-testid="share-link-form">
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            checked={view}
            onChange={(e) => setView(e.target.checked)}
            disabled={!!fileId}
            data-testid="share-link-view"
          />
          {t('shareLinks.view')}
        </label>
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            checked={edit}
            onChange={(e) => setEdit(e.target.checked)}
            disabled={!!fileId}
            data-testid="share-link-edit"
          />
          {t('shareLinks.edit')}
        </label>
        <label className="flex flex-col gap-1">
          {t('shareLinks.expires')}
          <select className={selectClass} value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRIES.map((option, index) => (
              <option key={option.key} value={index}>
                {t(`shareLinks.${option.key}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          {t('shareLinks.maxUses')}
          <Input
            type="number"
            min={1}
            value={maxUses}
            onChange={(e) => setMaxUses(e.target.value)}
            placeholder={t('shareLinks.unlimited')}
          />
        </label>
        <label className="flex flex-col gap-1">
          {t('shareLinks.file')}
          <select
            className={selectClass}
            value={fileId}
            onChange={(e) => setFileId(e.target.value)}
            onPointerDown={openPicker}
            onFocus={openPicker}
            data-testid="share-link-file"
          >
            <option value="">{t('shareLinks.wholeRoom')}</option>
            {(listAll ? linkable : linkable.filter((file) => String(file.id) === fileId)).map((file) => (
              <option key={file.id} value={file.id}>
                {file.file_name}
              </option>
            ))}
          </select>
        </label>
        {fileId ? (
          <>
            <label className="flex flex-col gap-1">
              {t('shareLinks.maxDownloads')}
              <Input
                type="number"
                min={1}
                value={maxDownloads}
                onChange={(e) => setMaxDownloads(e.target.value)}
                placeholder={t('shareLinks.unlimited')}
                data-testid="share-link-max-downloads"
              />
            </label>
            <label className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={burn}
                onChange={(e) => setBurn(e.target.checked)}
                data-testid="share-link-burn"
              />
              {t('shareLinks.burn')}
            </label>
          </>
        ) : null}
        <Button type="submit" disabled={busy || (!fileId && !view && !edit)} data-testid="share-link-create">
          {t('shareLinks.create')}
        </Button>
      </form>
      {query.isLoading ? <Spinner label={t('common.loading')} /> : null}
      {query.data?.length === 0 ? <p className="text-muted">{t('shareLinks.empty')}</p> : null}
      <ul className="flex flex-col gap-2" data-testid="share-links-list">
        {(query.data ?? []).map((link) => (
          <ShareLinkRow key={link.id} link={link} onRevoke={() => void revoke(link.id)} />
        ))}
      </ul>
    </div>
  );
}

function ShareLinkRow({ link, onRevoke }: { link: ShareLinkView; onRevoke: () => void }) {
  const t = useT();
  const url = link.path ? `${window.location.origin}${link.path}` : '';
  const qr = useQrCode(url || 'about:blank');
  const dropBox = (link.permission & Permission.VIEW) === 0;
  return (
    <li
      className="flex gap-2.5 rounded-lg border border-border bg-surface p-2.5"
      data-testid="share-link-row"
      data-id={link.id}
    >
      {qr && url ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img
          src={qr}
          alt={t('shareLinks.qrAlt', { id: link.id })}
          width={72}
          height={72}
          className="h-18 w-18"
        />
      ) : null}
      <div className="flex min-w-0 flex-1 flex-col gap-1">
        <span className="flex flex-wrap gap-1">
          {dropBox ? <Badge tone="accent">{t('shareLinks.dropBox')}</Badge> : null}
          {link.permission & Permission.VIEW ? <Badge>{t('shareLinks.view')}</Badge> : null}
          {link.permission & Permission.EDIT ? <Badge>{t('shareLinks.edit')}</Badge> : null}
        </span>
        <span data-testid="share-link-uses">
          {t('shareLinks.uses', {
            count: link.max_uses === null ? `${link.uses}` : `${link.uses}/${link.max_uses}`,
          })}
        </span>
        {link.max_downloads !== null ? (
          <span>
            {t('shareLinks.downloadsLeft', { count: Math.max(0, link.max_downloads - link.downloads) })}
          </span>
        ) : null}
        <input
          readOnly
          value={url}
          className="w-full truncate rounded border border-border bg-transparent px-1.5 py-1 font-mono"
          data-testid="share-link-url"
          aria-label={t('shareLinks.title')}
          onFocus={(e) => e.target.select()}
        />
      </div>
      <Button type="button" variant="ghost" onClick={onRevoke} data-testid="share-link-revoke">
        {t('shareLinks.revoke')}
      </Button>
    </li>
  );
}
