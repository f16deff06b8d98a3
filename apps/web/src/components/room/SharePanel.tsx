'use client';

import { Copy, Download, EyeOff } from 'lucide-react';
import { useEffect, useState } from 'react';

import { useT } from '@/lib/i18n';
import { roomPath } from '@/lib/room-name';

import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Spinner } from '../ui/misc';
import { useRoom } from './room-context';

/**
 * The room's QR code as a PNG data URL: always dark modules on white with the standard quiet
 * zone of four modules, in every theme (many scanners cannot read an inverted code, and the
 * saved PNG must work when printed).
 */
export function useQrCode(text: string): string | null {
  const [dataUrl, setDataUrl] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    setDataUrl(null);
    void import('qrcode').then(({ toDataURL }) =>
      toDataURL(text, {
        width: 320,
        margin: 4,
        errorCorrectionLevel: 'M',
        color: { dark: '#000000', light: '#ffffff' },
      }).then((url) => {
        if (!cancelled) setDataUrl(url);
      }),
    );
    return () => {
      cancelled = true;
    };
  }, [text]);
  return dataUrl;
}

export function SharePanel({ slug }: { slug: string }) {
  const t = useT();
  const { canShare, copy } = useRoom();
  const url = `${window.location.origin}${roomPath(slug)}`;
  const qr = useQrCode(url);

  if (!canShare) {
    return (
      <div
        className="flex gap-2.5 rounded-lg border border-dashed border-border p-3 text-sm text-muted"
        data-testid="share-disabled"
      >
        <EyeOff size={16} aria-hidden className="mt-0.5 shrink-0" />
        <p>{t('share.disabled')}</p>
      </div>
    );
  }

  return (
    <div className="flex flex-col gap-3" data-testid="share-panel">
      <div
        className="flex items-center justify-center rounded-xl border border-border bg-white p-1"
        data-testid="share-qr-frame"
      >
        {qr ? (
          // eslint-disable-next-line @next/next/no-img-element
          <img
            src={qr}
            alt={t('share.qrAlt', { room: slug })}
            width={160}
            height={160}
            className="h-40 w-40"
            data-testid="share-qr"
          />
        ) : (
          <div className="flex h-40 w-40 items-center justify-center">
            <Spinner label={t('share.generating')} />
          </div>
        )}
      </div>
      <label htmlFor={`share-link-${slug}`} className="sr-only">
        {t('share.link')}
      </label>
      <input
        id={`share-link-${slug}`}
        readOnly
        value={url}
        onFocus={(event) => event.currentTarget.select()}
        className="w-full truncate rounded-lg border border-border bg-subtle px-2.5 py-1.5 font-mono text-xs text-muted"
        data-testid="share-link"
      />
      <div className="grid grid-cols-2 gap-2">
        <Button
          variant="primary"
          size="sm"
          onClick={() => void copy(url, t('share.copied'))}
          data-testid="share-copy"
        >
          <Copy size={14} aria-hidden />
          {t('share.copy')}
        </Button>
        <Button
          size="sm"
          disabled={!qr}
          onClick={() => {
            if (!qr) return;
            const anchor = document.createElement('a');
            anchor.href = qr;
            anchor.download = `elizabeth-${slug}-qr.png`;
            anchor.click();
          }}
          data-testid="share-download-qr"
        >
          <Download size={14} aria-hidden />
          {t('share.downloadQr')}
        </Button>
      </div>
    </div>
  );
}

export function ShareDialog({
  open,
  onOpenChange,
  slug,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  slug: string;
}) {
  const t = useT();
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={t('share.title')}
      description={t('share.description')}
      size="sm"
      testId="share-dialog"
    >
      {open ? <SharePanel slug={slug} /> : null}
    </Dialog>
  );
}
