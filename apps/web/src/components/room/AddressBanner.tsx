'use client';

import { ArrowRight, Copy, MapPin } from 'lucide-react';

import { useT } from '@/lib/i18n';
import { roomPath } from '@/lib/room-name';
import { useTransfers } from '@/lib/transfers';

import { Button } from '../ui/button';
import { useRoom } from './room-context';

export function AddressBanner({ slug }: { slug: string }) {
  const t = useT();
  const { copy } = useRoom();
  const uploading = useTransfers().some(
    (item) => item.direction === 'up' && (item.status === 'active' || item.status === 'queued'),
  );
  const url = `${window.location.origin}${roomPath(slug)}`;
  return (
    <div
      role="alert"
      data-testid="address-banner"
      className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-warn/30 bg-warn-soft px-4 py-2.5 text-sm text-warn"
    >
      <MapPin size={16} aria-hidden className="shrink-0" />
      <p className="min-w-0 flex-1">
        <span className="font-medium">{t('moved.title')}</span> {t('moved.body', { path: `/${slug}` })}
        {uploading ? <span className="block text-xs">{t('moved.uploading')}</span> : null}
      </p>
      <div className="flex gap-2">
        <Button size="sm" onClick={() => void copy(url, t('moved.copied'))}>
          <Copy size={14} aria-hidden />
          {t('moved.copy')}
        </Button>
        <Button
          size="sm"
          variant="primary"
          onClick={() => window.location.assign(roomPath(slug))}
          data-testid="address-banner-go"
        >
          {t('moved.go')}
          <ArrowRight size={14} aria-hidden />
        </Button>
      </div>
    </div>
  );
}
