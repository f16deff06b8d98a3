'use client';

import { AlertTriangle, Clock, DoorClosed, Lock, SearchX, ShieldOff, WifiOff } from 'lucide-react';
import dynamic from 'next/dynamic';
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';

import { getApi, isApiError } from '@/lib/api-client';
import type { RoomView } from '@/lib/api-types';
import { errorMessage } from '@/lib/errors';
import { useT } from '@/lib/i18n';
import { ROOM_SLUG_MAX, roomFromPathname, roomNameProblem } from '@/lib/room-name';
import { canRefresh, isUsable } from '@/lib/token-store';

import { Logo } from '../Chrome';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Field, PasswordInput } from '../ui/input';
import { Alert, Spinner } from '../ui/misc';

const Workspace = dynamic(() => import('./Workspace').then((m) => m.Workspace), {
  ssr: false,
  loading: () => <FullScreenSpinner />,
});

export type Blocker =
  'expired' | 'not_enterable' | 'not_found' | 'invalid' | 'network' | 'error' | 'deleted' | 'revoked';

type Phase =
  | { kind: 'loading' }
  | { kind: 'password'; room: RoomView; reason?: 'changed' }
  | { kind: 'ready'; room: RoomView }
  | { kind: 'blocked'; blocker: Blocker; message?: string };

function blockerFor(error: unknown): Blocker {
  if (!isApiError(error)) return 'error';
  if (error.status === 410 || error.code === 'ROOM_EXPIRED') return 'expired';
  if (error.code === 'ROOM_NOT_ENTERABLE') return 'not_enterable';
  if (error.status === 404) return 'not_found';
  if (error.status === 400) return 'invalid';
  if (error.status === 0) return 'network';
  return 'error';
}

export function RoomApp() {
  const t = useT();
  const [slug, setSlug] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const generation = useRef(0);

  const enter = useCallback(
    async (name: string, reason?: 'changed') => {
      const run = ++generation.current;
      const current = () => run === generation.current;
      setPhase({ kind: 'loading' });
      const api = getApi();
      try {
        // 1. A stored session: validate it (or renew it) without counting an entry.
        const stored = api.tokens.get(name);
        if (stored && (isUsable(stored, Date.now()) || canRefresh(stored, Date.now()))) {
          try {
            if (isUsable(stored, Date.now())) await api.validateToken(name, stored.token);
            else await api.renew(name, true);
            const room = await api.getRoom(name);
            if (current()) setPhase({ kind: 'ready', room });
            return;
          } catch (error) {
            if (
              isApiError(error) &&
              (error.status === 410 || error.status === 404 || error.code === 'ROOM_NOT_ENTERABLE')
            )
              throw error;
            if (isApiError(error) && error.status === 0) throw error;
            // validation failed: try the refresh token once, else forget the session
            const again = api.tokens.get(name);
            let renewed = false;
            if (again && canRefresh(again, Date.now())) {
              try {
                await api.renew(name, true);
                renewed = true;
              } catch {
                renewed = false;
              }
            }
            if (renewed) {
              const room = await api.getRoom(name);
              if (current()) setPhase({ kind: 'ready', room });
              return;
            }
            api.tokens.remove(name);
          }
        }
        // 2. Discover (creates the room on first visit), then open a session.
        const room = await api.getRoom(name);
        if (!current()) return;
        if (room.password_protected) {
          setPhase({ kind: 'password', room, ...(reason ? { reason } : {}) });
          return;
        }
        const issued = await api.issueToken(name, { with_refresh_token: true });
        api.storeIssued(name, issued);
        if (current()) setPhase({ kind: 'ready', room });
      } catch (error) {
        if (current())
          setPhase({ kind: 'blocked', blocker: blockerFor(error), message: errorMessage(t, error) });
      }
    },
    [t],
  );

  useEffect(() => {
    const name = roomFromPathname(window.location.pathname);
    setSlug(name);
    const problem = roomNameProblem(name, ROOM_SLUG_MAX);
    if (problem) {
      setPhase({ kind: 'blocked', blocker: 'invalid', message: t(`name.${problem}`) });
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
      if (room === slug) void enter(slug);
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

  if (!slug || phase.kind === 'loading') return <FullScreenSpinner label={t('room.entering')} />;
  if (phase.kind === 'blocked')
    return <BlockedScreen blocker={phase.blocker} message={phase.message} onRetry={() => void enter(slug)} />;
  if (phase.kind === 'password')
    return (
      <PasswordGate
        slug={slug}
        changed={phase.reason === 'changed'}
        onEntered={(room) => setPhase({ kind: 'ready', room })}
      />
    );
  return <Workspace slug={slug} initialRoom={phase.room} onForcedExit={onForcedExit} />;
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
        <a href="/" aria-label="Elizabeth">
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
  onRetry,
}: {
  blocker: Blocker;
  message?: string | undefined;
  onRetry: () => void;
}) {
  const t = useT();
  const Icon = BLOCKER_ICONS[blocker];
  const retryable = blocker === 'network' || blocker === 'error' || blocker === 'revoked';
  return (
    <Centered>
      <div
        className="w-full max-w-md rounded-2xl border border-border bg-surface p-6 text-center shadow-card"
        data-testid={`room-blocked-${blocker}`}
        role="alert"
      >
        <span className="mx-auto flex h-11 w-11 items-center justify-center rounded-full bg-subtle text-muted">
          <Icon size={20} aria-hidden />
        </span>
        <h1 className="mt-4 text-lg font-semibold">{t(`blocked.${blocker}.title`)}</h1>
        <p className="mt-1.5 text-sm text-muted">{t(`blocked.${blocker}.body`)}</p>
        {message && (blocker === 'invalid' || blocker === 'error' || blocker === 'network') ? (
          <p className="mt-3 text-xs text-faint">{message}</p>
        ) : null}
        <div className="mt-6 flex justify-center gap-2">
          <a
            href="/"
            className="inline-flex h-9 items-center rounded-lg border border-border px-3.5 text-sm font-medium hover:bg-hover"
          >
            {t('common.goHome')}
          </a>
          {retryable ? (
            <Button variant="primary" onClick={onRetry}>
              {blocker === 'revoked' ? t('blocked.enterAgain') : t('common.retry')}
            </Button>
          ) : null}
        </div>
      </div>
    </Centered>
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!password) return;
    setBusy(true);
    setError(null);
    const api = getApi();
    try {
      const issued = await api.issueToken(slug, { password, with_refresh_token: true });
      api.storeIssued(slug, issued);
      const room = await api.getRoom(slug);
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
          {error ? <Alert testId="password-error">{error}</Alert> : null}
          <div className="mt-1 flex justify-end gap-2">
            <Button onClick={() => window.location.assign('/')}>{t('common.cancel')}</Button>
            <Button
              type="submit"
              variant="primary"
              disabled={!password || busy}
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
