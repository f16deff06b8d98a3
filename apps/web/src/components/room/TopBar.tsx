'use client';

import { clsx } from 'clsx';
import { CircleQuestionMark, Clock, Lock, Settings, Share2, Users } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';

import { formatDuration, parseTimestamp } from '@/lib/format';
import { useI18n } from '@/lib/i18n';

import { Logo, ThemeButton } from '../Chrome';
import { IconButton } from '../ui/button';
import { HelpDialog, useHelpShortcut } from './HelpDialog';
import { PrefsDialog } from './PrefsDialog';
import { ShareDialog } from './SharePanel';
import { useRoom } from './room-context';

export function useCountdown(expireAt: string): number {
  const target = parseTimestamp(expireAt);
  const [now, setNow] = useState(() => Date.now());
  const remaining = Math.max(0, Math.round((target - now) / 1000));
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), remaining < 3600 ? 1000 : 30_000);
    return () => clearInterval(timer);
  }, [remaining < 3600]); // eslint-disable-line react-hooks/exhaustive-deps
  return remaining;
}

export function TopBar() {
  const { t, locale } = useI18n();
  const { room, slug, online, connection } = useRoom();
  const remaining = useCountdown(room.expire_at);
  const [shareOpen, setShareOpen] = useState(false);
  const [prefsOpen, setPrefsOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  useHelpShortcut(useCallback(() => setHelpOpen(true), []));
  const live = connection === 'open';

  return (
    <header
      className="flex h-13 shrink-0 items-center gap-2 border-b border-border bg-surface px-3 sm:px-4"
      data-testid="room-topbar"
    >
      <a href="/" aria-label={t('room.home')} title={t('room.home')} className="rounded-lg">
        <Logo compact />
      </a>
      <span aria-hidden className="text-border-strong max-sm:hidden">
        /
      </span>
      <h1
        className="flex min-w-0 items-center gap-1.5 text-[0.9375rem] font-semibold"
        data-testid="room-name"
      >
        <span className="truncate">{room.name}</span>
        {room.password_protected ? (
          <Lock size={13} className="shrink-0 text-faint" aria-label={t('room.protected')} />
        ) : null}
      </h1>
      <div className="ml-auto flex items-center gap-1 sm:gap-2">
        <span
          className={clsx(
            'inline-flex shrink-0 items-center gap-1 rounded-full px-1.5 py-1 text-xs tabular-nums sm:gap-1.5 sm:px-2',
            remaining < 600 ? 'bg-warn-soft text-warn' : 'text-muted',
            // A phone keeps the width for the room's name; the Room tab shows the expiry, and
            // the last hour is shown here too.
            remaining >= 3600 && 'max-sm:hidden',
          )}
          title={t('room.expiresAt', { time: new Date(parseTimestamp(room.expire_at)).toLocaleString() })}
          data-testid="room-expiry"
        >
          <Clock size={13} aria-hidden />
          {remaining > 0 ? (
            <>
              <span className="max-sm:hidden">
                {t('room.expiresIn', { time: formatDuration(remaining, locale) })}
              </span>
              <span className="sm:hidden">{formatDuration(remaining, locale)}</span>
            </>
          ) : (
            t('room.expired')
          )}
        </span>
        <span
          className={clsx(
            'inline-flex shrink-0 items-center gap-1.5 rounded-full px-2 py-1 text-xs tabular-nums',
            live
              ? 'text-muted'
              : connection === 'closed'
                ? 'bg-danger-soft text-danger'
                : 'bg-warn-soft text-warn',
          )}
          title={live ? t('room.onlineTitle', { count: online ?? 1 }) : t(`room.connection.${connection}`)}
          data-testid="room-online"
          aria-live="polite"
        >
          <span
            aria-hidden
            className={clsx(
              'h-1.5 w-1.5 rounded-full',
              live ? 'bg-success' : connection === 'closed' ? 'bg-danger' : 'animate-pulse bg-warn',
            )}
          />
          <Users size={13} aria-hidden className="max-sm:hidden" />
          {live ? (
            <>
              <span aria-hidden>{online ?? 1}</span>
              <span className="sr-only">{t('room.onlineTitle', { count: online ?? 1 })}</span>
            </>
          ) : (
            // Not only a dot: the state is written out (on a phone for screen readers only).
            <span className="max-sm:sr-only" data-testid="room-connection-label">
              {t(`room.connection.${connection}`)}
            </span>
          )}
        </span>
        <IconButton label={t('share.title')} onClick={() => setShareOpen(true)} data-testid="share-button">
          <Share2 size={17} aria-hidden />
        </IconButton>
        <IconButton label={t('prefs.title')} onClick={() => setPrefsOpen(true)} data-testid="prefs-button">
          <Settings size={17} aria-hidden />
        </IconButton>
        <IconButton
          label={t('help.button')}
          onClick={() => setHelpOpen(true)}
          data-testid="help-button"
          aria-keyshortcuts="?"
          className="max-sm:hidden"
        >
          <CircleQuestionMark size={17} aria-hidden />
        </IconButton>
        <span className="max-sm:hidden">
          <ThemeButton />
        </span>
      </div>
      <ShareDialog open={shareOpen} onOpenChange={setShareOpen} slug={slug} />
      <PrefsDialog open={prefsOpen} onOpenChange={setPrefsOpen} />
      <HelpDialog open={helpOpen} onOpenChange={setHelpOpen} />
    </header>
  );
}
