'use client';

import { clsx } from 'clsx';
import { ArrowDown, ArrowUp, Check, Pause, Play, RotateCw, X } from 'lucide-react';

import { formatBytes, formatDuration, formatSpeed } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import { remainingSeconds, removeTransfer, useTransfers } from '@/lib/transfers';

import { IconButton } from '../ui/button';
import { FileName, ProgressBar } from '../ui/misc';
import { useRoom } from './room-context';

export function TransferPanel() {
  const { t, locale } = useI18n();
  const { slug } = useRoom();
  const transfers = useTransfers().filter((item) => item.room === slug);
  if (transfers.length === 0) return null;
  return (
    <section
      className="mx-4 mt-3 rounded-xl border border-border bg-surface"
      aria-label={t('transfers.title')}
      data-testid="transfer-panel"
    >
      <h3 className="border-b border-border px-3 py-2 text-xs font-semibold text-muted">
        {t('transfers.title')}
      </h3>
      <ul className="divide-y divide-border">
        {transfers.map((item) => {
          const pct = item.total > 0 ? (item.loaded / item.total) * 100 : item.status === 'done' ? 100 : 0;
          const eta = remainingSeconds(item);
          return (
            <li key={item.id} className="px-3 py-2" data-testid="transfer-row" data-status={item.status}>
              <div className="flex items-center gap-2 text-xs">
                {item.direction === 'up' ? (
                  <ArrowUp
                    size={13}
                    aria-label={t('transfers.upload')}
                    className="shrink-0 text-accent-text"
                  />
                ) : (
                  <ArrowDown
                    size={13}
                    aria-label={t('transfers.download')}
                    className="shrink-0 text-success"
                  />
                )}
                <FileName name={item.name} className="flex-1 font-medium" />
                {item.status === 'done' ? (
                  <Check size={14} className="text-success" aria-label={t('transfers.done')} />
                ) : null}
                {item.pause ? (
                  <IconButton
                    size="icon-sm"
                    label={t('transfers.pause')}
                    onClick={item.pause}
                    data-testid="transfer-pause"
                  >
                    <Pause size={13} aria-hidden />
                  </IconButton>
                ) : null}
                {item.resume && (item.status === 'paused' || item.status === 'error') ? (
                  <IconButton
                    size="icon-sm"
                    label={item.status === 'error' ? t('transfers.retry') : t('transfers.resume')}
                    onClick={item.resume}
                    data-testid="transfer-resume"
                  >
                    {item.status === 'error' ? (
                      <RotateCw size={13} aria-hidden />
                    ) : (
                      <Play size={13} aria-hidden />
                    )}
                  </IconButton>
                ) : null}
                {item.cancel && item.status !== 'done' && item.status !== 'cancelled' ? (
                  <IconButton
                    size="icon-sm"
                    label={t('transfers.cancel')}
                    onClick={item.cancel}
                    data-testid="transfer-cancel"
                  >
                    <X size={13} aria-hidden />
                  </IconButton>
                ) : item.status === 'error' || item.status === 'cancelled' ? (
                  <IconButton
                    size="icon-sm"
                    label={t('common.dismiss')}
                    onClick={() => removeTransfer(item.id)}
                  >
                    <X size={13} aria-hidden />
                  </IconButton>
                ) : null}
              </div>
              {item.status !== 'done' ? (
                <ProgressBar
                  value={pct}
                  className="mt-1.5"
                  tone={item.status === 'error' ? 'danger' : item.status === 'paused' ? 'warn' : 'accent'}
                  label={item.name}
                />
              ) : null}
              <p
                className={clsx(
                  'mt-1 flex justify-between gap-2 text-[0.6875rem] tabular-nums',
                  item.status === 'error' ? 'text-danger' : 'text-faint',
                )}
              >
                <span>
                  {item.status === 'error'
                    ? t('transfers.failed', { reason: item.error ?? '' })
                    : `${formatBytes(item.loaded)}${item.total ? ` / ${formatBytes(item.total)}` : ''}`}
                </span>
                <span>
                  {item.status === 'active'
                    ? `${formatSpeed(item.speed)}${eta !== undefined ? ` · ${t('transfers.left', { time: formatDuration(eta, locale) })}` : ''}`
                    : item.status === 'error'
                      ? ''
                      : t(`transfers.status.${item.status}`)}
                </span>
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
