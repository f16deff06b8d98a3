'use client';

import { AlertTriangle, Clock, DoorClosed, Lock, SearchX, ShieldOff, WifiOff } from 'lucide-react';
import dynamic from 'next/dynamic';
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';

import { SHARE_LINK_QUERY } from '@elizabeth/protocol/constants';
import { getApi, isApiError } from '@/lib/api-client';
import type { RoomView } from '@elizabeth/protocol';
import { errorMessage } from '@/lib/errors';
import { startEarlyRoom, takeEarly } from '@/lib/room-prefetch';
import { useT } from '@/lib/i18n';
import { ROOM_NAME_MAX, ROOM_SLUG_MAX, roomFromPathname, roomNameProblem, roomPath } from '@/lib/room-name';
import { canRefresh, isUsable } from '@/lib/token-store';
import { rememberName, rememberedName } from '@/lib/display-name';
import { DISPLAY_NAME_MAX_LENGTH, normalizeDisplayName } from '@elizabeth/protocol/constants';

import { Logo } from '../Chrome';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Field, Input, PasswordInput } from '../ui/input';
import { Alert, Spinner } from '../ui/misc';

const ShareLinkPage = dynamic(() => import('../links/ShareLinkPage').then((m) => m.ShareLinkPage), {
  ssr: false,
  loading: () => <FullScreenSpinner />,
});

const Workspace = dynamic(() => import('./Workspace').then((m) => m.Workspace), {
  ssr: false,
  loading: () => <FullScreenSpinner />,
});

/**
 * As soon as this code runs (before React renders): the workspace's code starts loading and,
 * when a session is stored, the room's first data is asked for (lib/room-prefetch.ts), so
 * neither waits for the room check.
 */
function startEarly(): void {
  if (new URLSearchParams(window.location.search).get(SHARE_LINK_QUERY)) return;
  const path = window.location.pathname;
  const name = roomFromPathname(path);
  if (path.split('/').filter((segment) => segment.length > 0).length !== 1) return;
  if (roomNameProblem(name, ROOM_SLUG_MAX)) return;
  void import('./Workspace');
  startEarlyRoom(name);
}
if (typeof window !== 'undefined') startEarly();

export type Blocker =
  'expired' | 'not_enterable' | 'not_found' | 'invalid' | 'network' | 'error' | 'deleted' | 'revoked';

type Phase =
  | { kind: 'loading' }
  | { kind: 'password'; room: RoomView; reason?: 'changed' }
  | { kind: 'ready'; room: RoomView }
  | { kind: 'missing'; similar?: string | undefined }
  | {
      kind: 'blocked';
      blocker: Blocker;
      message?: string;
      /** A message key, translated when shown (the language may change after the check). */
      messageKey?: string;
      reason?: string | undefined;
    };

function blockerFor(error: unknown): Blocker {
  if (!isApiError(error)) return 'error';
  if (error.status === 410 || error.code === 'ROOM_EXPIRED') return 'expired';
  if (error.code === 'ROOM_NOT_ENTERABLE') return 'not_enterable';
  if (error.status === 404) return 'not_found';
  if (error.status === 400) return 'invalid';
  if (error.status === 0) return 'network';
  return 'error';
}

/** A `details` entry of the server's error envelope (`reason`, `similar`). */
function detailOf(error: unknown, path: string): string | undefined {
  return isApiError(error) ? error.details?.find((d) => d.path === path)?.message : undefined;
}

/** Errors that end the entry flow: the room itself is gone, closed or unreachable. */
function isFinal(error: unknown): boolean {
  return (
    isApiError(error) &&
    (error.status === 410 ||
      error.status === 404 ||
      error.status === 0 ||
      error.code === 'ROOM_NOT_ENTERABLE')
  );
}

export function RoomApp() {
  const t = useT();
  const [slug, setSlug] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  // A share link (`/<room>?s=<secret>`) has its own page (components/links).
  const [linkSecret, setLinkSecret] = useState<string | null>(null);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;
  const generation = useRef(0);

  const enter = useCallback(
    async (name: string, reason?: 'changed') => {
      const run = ++generation.current;
      const current = () => run === generation.current;
      setPhase({ kind: 'loading' });
      const api = getApi();
      try {
        // 1. A stored session gets back in (even when the entry limit is reached): check it and
        //    ask for the room with it at the same time, counting no entry.
        const stored = api.tokens.get(name);
        const now = Date.now();
        if (stored && (isUsable(stored, now) || canRefresh(stored, now))) {
          let room: RoomView | undefined;
          if (isUsable(stored, now)) {
            const [valid, found] = await Promise.allSettled([
              takeEarly(name, 'valid', stored.token) ?? api.validateToken(name, stored.token),
              takeEarly(name, 'room', stored.token) ?? api.findRoom(name, stored.token),
            ]);
            if (valid.status === 'fulfilled') {
              if (found.status === 'rejected') throw found.reason;
              room = found.value;
            } else if (isFinal(valid.reason)) throw valid.reason;
          }
          if (!room) {
            // validation failed or the access token ran out: the refresh token, once
            const token = await api.renew(name, true).catch((error: unknown) => {
              if (isFinal(error)) throw error;
              return undefined;
            });
            if (token) room = await api.findRoom(name, token);
            else api.tokens.remove(name);
          }
          if (room) {
            if (current()) setPhase({ kind: 'ready', room });
            return;
          }
        }
        // 2. A new entry: the room must exist (the page never creates one unasked).
        const room = await api.findRoom(name);
        if (!current()) return;
        if (room.password_protected) {
          setPhase({ kind: 'password', room, ...(reason ? { reason } : {}) });
          return;
        }
        const displayName = rememberedName();
        const issued = await api.issueToken(name, {
          with_refresh_token: true,
          ...(displayName ? { display_name: displayName } : {}),
        });
        api.storeIssued(name, issued);
        if (current())
          setPhase({
            kind: 'ready',
            room: { ...room, current_times_entered: room.current_times_entered + 1 },
          });
      } catch (error) {
        if (!current()) return;
        if (isApiError(error, 'ROOM_NOT_FOUND')) {
          setPhase({ kind: 'missing', similar: detailOf(error, 'similar') });
          return;
        }
        setPhase({
          kind: 'blocked',
          blocker: blockerFor(error),
          message: errorMessage(t, error),
          reason: detailOf(error, 'reason'),
        });
      }
    },
    [t],
  );

  useEffect(() => {
    const secret = new URLSearchParams(window.location.search).get(SHARE_LINK_QUERY);
    if (secret) {
      setLinkSecret(secret);
      return;
    }
    const segments = window.location.pathname.split('/').filter((segment) => segment.length > 0);
    const name = roomFromPathname(window.location.pathname);
    setSlug(name);
    // `/foo/bar` is no room address (it must not open `foo`).
    const problem = segments.length > 1 ? 'nested' : roomNameProblem(name, ROOM_SLUG_MAX);
    if (problem) {
      setPhase({ kind: 'blocked', blocker: 'invalid', messageKey: `name.${problem}` });
      return;
    }
    document.title = `${name} · Elizabeth`;
    void enter(name);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // A request that lost its session sends us back through the entry flow (password dialog if needed).
  useEffect(() => {
    if (!slug) return;
    return getApi().onAuthLost((room) => {
      if (room !== slug) return;
      // In a room's last seconds no new token is issued: the workspace's expiry timer ends it.
      const open = phaseRef.current;
      if (open.kind === 'ready' && Date.parse(open.room.expire_at) - Date.now() < 15_000) return;
      void enter(slug);
    });
  }, [slug, enter]);

  const onForcedExit = useCallback(
    (code: string) => {
      if (!slug) return;
      if (code === 'room_deleted') setPhase({ kind: 'blocked', blocker: 'deleted' });
      else if (code === 'room_expired') setPhase({ kind: 'blocked', blocker: 'expired' });
      else if (code === 'session_revoked') {
        getApi().tokens.remove(slug);
        setPhase({ kind: 'blocked', blocker: 'revoked' });
      } else if (code === 'password_changed') {
        getApi().tokens.remove(slug);
        void enter(slug, 'changed');
      } else void enter(slug);
    },
    [slug, enter],
  );

  // This page moved the room (Share off/on) and holds a session at the new address.
  const onMoved = useCallback((next: string, room: RoomView) => {
    window.history.replaceState(window.history.state, '', roomPath(next));
    document.title = `${next} · Elizabeth`;
    setSlug(next);
    setPhase({ kind: 'ready', room });
  }, []);

  if (linkSecret) return <ShareLinkPage secret={linkSecret} />;
  if (!slug || phase.kind === 'loading') return <FullScreenSpinner label={t('room.entering')} />;
  if (phase.kind === 'missing')
    return <MissingRoom name={slug} similar={phase.similar} onCreated={() => void enter(slug)} />;
  if (phase.kind === 'blocked')
    return (
      <BlockedScreen
        blocker={phase.blocker}
        message={phase.messageKey ? t(phase.messageKey) : phase.message}
        reason={phase.reason}
        onRetry={() => void enter(slug)}
      />
    );
  if (phase.kind === 'password')
    return (
      <PasswordGate
        slug={slug}
        changed={phase.reason === 'changed'}
        onEntered={(room) => setPhase({ kind: 'ready', room })}
      />
    );
  return (
    <Workspace
      key={slug}
      slug={slug}
      initialRoom={phase.room}
      onForcedExit={onForcedExit}
      onMoved={onMoved}
    />
  );
}

/** "No room named X — create it?": links never create rooms by themselves. */
function MissingRoom({
  name,
  similar,
  onCreated,
}: {
  name: string;
  similar: string | undefined;
  onCreated: () => void;
}) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function create() {
    setBusy(true);
    setError(null);
    try {
      await getApi().createRoom(name, {});
    } catch (err) {
      // Someone created it in the meantime: just enter it.
      if (!isApiError(err, 'CONFLICT')) {
        setBusy(false);
        setError(errorMessage(t, err));
        return;
      }
    }
    onCreated();
  }
  const problem = roomNameProblem(name, ROOM_NAME_MAX);
  return (
    <StatusCard
      icon={SearchX}
      testId="room-missing"
      title={t('missing.title', { room: name })}
      action={
        problem ? null : (
          <Button
            variant="primary"
            onClick={() => void create()}
            disabled={busy}
            data-testid="room-missing-create"
          >
            {busy ? <Spinner className="text-current" /> : null}
            {t('missing.create', { room: name })}
          </Button>
        )
      }
    >
      <p className="mt-1.5 text-sm text-muted">{t('missing.body')}</p>
      {similar ? (
        <p className="mt-3 text-sm">
          {t('missing.similar')}{' '}
          <a
            href={roomPath(similar)}
            className="font-medium text-accent-text underline underline-offset-2"
            data-testid="room-missing-similar"
          >
            {similar}
          </a>
        </p>
      ) : null}
      {error ? (
        <div className="mt-3">
          <Alert>{error}</Alert>
        </div>
      ) : null}
    </StatusCard>
  );
}

/** The centred card of the entry flow's end states, with a way home and an optional action. */
function StatusCard({
  icon: Icon,
  testId,
  title,
  role,
  action,
  children,
}: {
  icon: typeof Clock;
  testId: string;
  title: string;
  role?: 'alert';
  action?: ReactNode;
  children: ReactNode;
}) {
  const t = useT();
  return (
    <Centered>
      <div
        className="w-full max-w-md rounded-2xl border border-border bg-surface p-6 text-center shadow-card"
        data-testid={testId}
        role={role}
      >
        <span className="mx-auto flex h-11 w-11 items-center justify-center rounded-full bg-subtle text-muted">
          <Icon size={20} aria-hidden />
        </span>
        <h1 className="mt-4 text-lg font-semibold break-words">{title}</h1>
        {children}
        <div className="mt-6 flex justify-center gap-2">
          <a
            href="/"
            className="inline-flex h-9 items-center rounded-lg border border-border px-3.5 text-sm font-medium hover:bg-hover"
          >
            {t('common.goHome')}
          </a>
          {action}
        </div>
      </div>
    </Centered>
  );
}

function FullScreenSpinner({ label }: { label?: string }) {
  return (
    <div
      className="flex min-h-dvh flex-col items-center justify-center gap-3 text-sm text-muted"
      data-testid="room-loading"
    >
      <Spinner size={22} />
      {label ? <p>{label}</p> : null}
    </div>
  );
}

function Centered({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="px-5 py-4">
        <a href="/">
          <Logo />
        </a>
      </header>
      <main className="flex flex-1 items-center justify-center px-5 pb-20">{children}</main>
    </div>
  );
}

const BLOCKER_ICONS: Record<Blocker, typeof Clock> = {
  expired: Clock,
  not_enterable: ShieldOff,
  not_found: SearchX,
  invalid: AlertTriangle,
  network: WifiOff,
  error: AlertTriangle,
  deleted: DoorClosed,
  revoked: ShieldOff,
};

function BlockedScreen({
  blocker,
  message,
  reason,
  onRetry,
}: {
  blocker: Blocker;
  message?: string | undefined;
  /** The server's exact reason (`details` `reason`), shown instead of the generic list. */
  reason?: string | undefined;
  onRetry: () => void;
}) {
  const t = useT();
  const reasonKey = reason ? `blocked.reason.${reason}` : undefined;
  const reasonText = reasonKey && t(reasonKey) !== reasonKey ? t(reasonKey) : undefined;
  const Icon = BLOCKER_ICONS[blocker];
  const retryable = blocker === 'network' || blocker === 'error' || blocker === 'revoked';
  return (
    <StatusCard
      icon={Icon}
      testId={`room-blocked-${blocker}`}
      role="alert"
      title={t(`blocked.${blocker}.title`)}
      action={
        retryable ? (
          <Button variant="primary" onClick={onRetry}>
            {blocker === 'revoked' ? t('blocked.enterAgain') : t('common.retry')}
          </Button>
        ) : null
      }
    >
      {reasonText ? (
        <p className="mt-1.5 text-sm text-muted" data-testid="room-blocked-reason">
          {reasonText}
        </p>
      ) : (
        <p className="mt-1.5 text-sm text-muted">{t(`blocked.${blocker}.body`)}</p>
      )}
      {message && (blocker === 'invalid' || blocker === 'error' || blocker === 'network') ? (
        <p className="mt-3 text-xs text-faint">{message}</p>
      ) : null}
    </StatusCard>
  );
}

function PasswordGate({
  slug,
  changed,
  onEntered,
}: {
  slug: string;
  changed: boolean;
  onEntered: (room: RoomView) => void;
}) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState(() => rememberedName() ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const checkedName = normalizeDisplayName(displayName);
  const nameProblem = 'problem' in checkedName ? checkedName.problem : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!password || nameProblem) return;
    setBusy(true);
    setError(null);
    const api = getApi();
    try {
      const name = 'name' in checkedName ? checkedName.name : null;
      const issued = await api.issueToken(slug, {
        password,
        with_refresh_token: true,
        ...(name ? { display_name: name } : {}),
      });
      api.storeIssued(slug, issued);
      if (name) rememberName(name);
      // Asked with the new session: the entry just counted may have been the last one.
      const room = await api.findRoom(slug, issued.token);
      onEntered(room);
    } catch (err) {
      setBusy(false);
      if (isApiError(err, 'AUTHENTICATION_FAILED')) setError(t('gate.wrong'));
      else setError(errorMessage(t, err));
    }
  }

  return (
    <Centered>
      <Dialog
        open
        onOpenChange={(open) => (open ? undefined : window.location.assign('/'))}
        title={
          <span className="flex items-center gap-2">
            <Lock size={16} aria-hidden className="text-accent-text" />
            {t('gate.title')}
          </span>
        }
        description={changed ? t('gate.changed', { room: slug }) : t('gate.description', { room: slug })}
        size="sm"
        testId="password-dialog"
      >
        <form onSubmit={submit} className="flex flex-col gap-3" noValidate>
          <Field label={t('gate.password')} htmlFor="room-password">
            <PasswordInput
              id="room-password"
              autoFocus
              autoComplete="current-password"
              value={password}
              aria-invalid={!!error}
              onChange={(event) => {
                setPassword(event.target.value);
                setError(null);
              }}
              data-testid="password-input"
            />
          </Field>
          <Field label={`${t('people.yourName')} (${t('common.optional')})`} htmlFor="entry-display-name">
            <Input
              id="entry-display-name"
              autoComplete="nickname"
              value={displayName}
              placeholder={t('people.namePlaceholder')}
              aria-invalid={!!nameProblem}
              onChange={(event) => setDisplayName(event.target.value)}
              data-testid="entry-display-name"
            />
          </Field>
          {nameProblem ? (
            <Alert>{t(`people.problem.${nameProblem}`, { max: DISPLAY_NAME_MAX_LENGTH })}</Alert>
          ) : null}
          {error ? <Alert testId="password-error">{error}</Alert> : null}
          <div className="mt-1 flex justify-end gap-2">
            <Button onClick={() => window.location.assign('/')}>{t('common.cancel')}</Button>
            <Button
              type="submit"
              variant="primary"
              disabled={!password || busy || !!nameProblem}
              data-testid="password-submit"
            >
              {busy ? <Spinner className="text-current" /> : null}
              {busy ? t('gate.checking') : t('gate.enter')}
            </Button>
          </div>
        </form>
      </Dialog>
    </Centered>
  );
}
