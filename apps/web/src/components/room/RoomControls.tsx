'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { clsx } from 'clsx';
import {
  HardDrive,
  KeyRound,
  LogIn,
  LogOut,
  MonitorSmartphone,
  Share2,
  ShieldCheck,
  SlidersHorizontal,
  Trash2,
} from 'lucide-react';
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';

import { getApi } from '@/lib/api-client';
import { Permission, hasPermission } from '@elizabeth/protocol/constants';
import type { RoomView, UpdateSettingsBody } from '@elizabeth/protocol';
import { useConfig } from '@/lib/config';
import { errorMessage } from '@/lib/errors';
import { closestAge, formatBytes, formatTime, parseTimestamp } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import { roomPath } from '@/lib/room-name';

import { ExpirySelect } from '../ExpirySelect';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Field, Input, PasswordInput } from '../ui/input';
import { Badge, ProgressBar, Spinner, Switch } from '../ui/misc';
import { useToast } from '../ui/toast';
import { SharePanel } from './SharePanel';
import { ShareLinksPanel } from './ShareLinksPanel';
import { useRoom } from './room-context';

const MIB = 1024 * 1024;

/** A titled block of the room panel (also used by the people panel). */
export function Section({
  title,
  icon: Icon,
  children,
  testId,
  aside,
}: {
  title: string;
  icon: typeof HardDrive;
  children: ReactNode;
  testId?: string;
  aside?: ReactNode;
}) {
  return (
    <section className="border-b border-border px-4 py-4" data-testid={testId} aria-label={title}>
      <h2 className="mb-3 flex items-center gap-2 text-xs font-semibold tracking-wide text-muted uppercase">
        <Icon size={14} aria-hidden />
        <span className="flex-1">{title}</span>
        {aside}
      </h2>
      {children}
    </section>
  );
}

export function StorageBar({ room, compact }: { room: RoomView; compact?: boolean }) {
  const t = useT2();
  const pct = room.max_size > 0 ? (room.current_size / room.max_size) * 100 : 0;
  return (
    <div className="flex flex-col gap-1.5" data-testid="storage-bar">
      <ProgressBar
        value={pct}
        tone={pct > 90 ? 'danger' : pct > 75 ? 'warn' : 'accent'}
        label={t('controls.storage')}
      />
      <p
        className={clsx(
          'flex justify-between text-xs text-muted tabular-nums',
          compact && 'text-[0.6875rem]',
        )}
      >
        <span>
          {t('controls.storageUsed', {
            used: formatBytes(room.current_size),
            total: formatBytes(room.max_size),
          })}
        </span>
        <span>{pct.toFixed(pct < 10 ? 1 : 0)}%</span>
      </p>
    </div>
  );
}

function useT2() {
  return useI18n().t;
}

export function RoomControls() {
  const { t, locale } = useI18n();
  const { room, slug, canManage } = useRoom();

  return (
    <div className="flex flex-col pb-6" data-testid="room-controls">
      <Section title={t('controls.overview')} icon={ShieldCheck}>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
          <dt className="text-muted">{t('controls.address')}</dt>
          <dd
            className="truncate text-right font-mono text-xs leading-5"
            title={roomPath(slug)}
            data-testid="room-address"
          >
            /{slug}
          </dd>
          <dt className="text-muted">{t('controls.expires')}</dt>
          <dd className="text-right">{formatTime(room.expire_at, locale)}</dd>
          <dt className="text-muted">{t('controls.entries')}</dt>
          <dd className="text-right tabular-nums" data-testid="room-entries">
            {room.current_times_entered} / {room.max_times_entered}
          </dd>
          <dt className="text-muted">{t('controls.password')}</dt>
          <dd className="text-right">
            {room.password_protected ? t('controls.passwordOn') : t('controls.passwordOff')}
          </dd>
          <dt className="text-muted">{t('controls.permissions')}</dt>
          <dd className="flex flex-wrap justify-end gap-1">
            {(['view', 'edit', 'share', 'delete'] as const).map((name) =>
              hasPermission(room.permission, Permission[name.toUpperCase() as 'VIEW']) ? (
                <Badge key={name} tone="accent">
                  {t(`perm.${name}`)}
                </Badge>
              ) : null,
            )}
          </dd>
        </dl>
      </Section>
      <Section title={t('controls.storage')} icon={HardDrive} testId="storage-section">
        <StorageBar room={room} />
      </Section>
      <Section title={t('share.title')} icon={Share2}>
        <SharePanel slug={slug} />
      </Section>
      {canManage ? (
        <>
          <Section title={t('controls.settings')} icon={SlidersHorizontal} testId="settings-section">
            <SettingsForm />
          </Section>
          <Section title={t('controls.permissions')} icon={KeyRound} testId="permissions-section">
            <PermissionToggles />
          </Section>
          <Section title={t('shareLinks.title')} icon={Share2} testId="share-links-section">
            <ShareLinksPanel />
          </Section>
          <Section title={t('sessions.title')} icon={MonitorSmartphone} testId="sessions-section">
            <SessionsList />
          </Section>
          <div className="px-4 pt-4">
            <DeleteRoom />
          </div>
        </>
      ) : (
        <p className="px-4 py-4 text-xs text-muted">{t('controls.manageOnly')}</p>
      )}
      <div className="px-4 pt-3">
        <LeaveRoom />
      </div>
    </div>
  );
}

function SettingsForm() {
  const { t } = useI18n();
  const { room, slug } = useRoom();
  const { config } = useConfig();
  const toast = useToast();
  const queryClient = useQueryClient();
  const ids = useId();
  const remaining = Math.max(0, (parseTimestamp(room.expire_at) - Date.now()) / 1000);
  const ages = config.room.expiry.allowed_ages_seconds;
  const currentAge = useMemo(() => closestAge(ages, remaining), [ages, room.expire_at]); // eslint-disable-line react-hooks/exhaustive-deps

  const [age, setAge] = useState<number | undefined>(undefined);
  const [password, setPassword] = useState('');
  const [removePassword, setRemovePassword] = useState(false);
  const [entries, setEntries] = useState(String(room.max_times_entered));
  const [quota, setQuota] = useState(String(Math.round(room.max_size / MIB)));
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setEntries(String(room.max_times_entered));
    setQuota(String(Math.round(room.max_size / MIB)));
  }, [room.max_times_entered, room.max_size]);

  const entriesNumber = Number(entries);
  const quotaBytes = Math.round(Number(quota) * MIB);
  const entriesError =
    !Number.isInteger(entriesNumber) ||
    entriesNumber < Math.max(1, room.current_times_entered) ||
    entriesNumber > config.room.limits.max_times_entered
      ? t('settings.entriesRange', {
          min: Math.max(1, room.current_times_entered),
          max: config.room.limits.max_times_entered,
        })
      : undefined;
  const quotaError =
    !Number.isFinite(quotaBytes) ||
    quotaBytes < room.current_size ||
    quotaBytes <= 0 ||
    quotaBytes > config.room.limits.max_size
      ? t('settings.quotaRange', {
          min: formatBytes(room.current_size),
          max: formatBytes(config.room.limits.max_size),
        })
      : undefined;
  const passwordError =
    password && (password.length < 4 || password.length > 100) ? t('password.length') : undefined;

  const body: UpdateSettingsBody = {};
  if (age !== undefined) body.age_seconds = age;
  if (password) body.password = password;
  else if (removePassword) body.remove_password = true;
  if (!entriesError && entriesNumber !== room.max_times_entered) body.max_times_entered = entriesNumber;
  if (!quotaError && Math.round(room.max_size / MIB) !== Number(quota)) body.max_size = quotaBytes;
  const dirty = Object.keys(body).length > 0;

  function reset() {
    setAge(undefined);
    setPassword('');
    setRemovePassword(false);
    setEntries(String(room.max_times_entered));
    setQuota(String(Math.round(room.max_size / MIB)));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty || entriesError || quotaError || passwordError) return;
    setBusy(true);
    try {
      const updated = await getApi().updateSettings(slug, body);
      queryClient.setQueryData(['room', slug], updated);
      toast.success(t('settings.saved'));
      setAge(undefined);
      setPassword('');
      setRemovePassword(false);
    } catch (error) {
      toast.error(t('settings.failed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-3.5" noValidate data-testid="settings-form">
      <Field
        label={t('settings.expiry')}
        htmlFor={`${ids}-age`}
        hint={age !== undefined ? t('settings.expiryHint') : undefined}
      >
        <ExpirySelect
          id={`${ids}-age`}
          ages={ages}
          value={age ?? currentAge ?? ''}
          onChange={setAge}
          testId="settings-expiry"
        />
      </Field>
      <Field
        label={t('settings.password')}
        htmlFor={`${ids}-pw`}
        error={passwordError}
        hint={room.password_protected ? t('settings.passwordHintOn') : t('settings.passwordHintOff')}
      >
        <PasswordInput
          id={`${ids}-pw`}
          value={password}
          autoComplete="new-password"
          placeholder={room.password_protected ? t('settings.passwordNew') : t('settings.passwordSet')}
          onChange={(e) => {
            setPassword(e.target.value);
            setRemovePassword(false);
          }}
          data-testid="settings-password"
        />
      </Field>
      {room.password_protected ? (
        <label className="flex items-center justify-between gap-3 text-sm" htmlFor={`${ids}-rm`}>
          <span>{t('settings.removePassword')}</span>
          <Switch
            id={`${ids}-rm`}
            checked={removePassword}
            onCheckedChange={(v) => {
              setRemovePassword(v);
              if (v) setPassword('');
            }}
            testId="settings-remove-password"
          />
        </label>
      ) : null}
      <div className="grid grid-cols-2 gap-3">
        <Field label={t('settings.entries')} htmlFor={`${ids}-entries`} error={entriesError}>
          <Input
            id={`${ids}-entries`}
            type="number"
            inputMode="numeric"
            min={1}
            value={entries}
            onChange={(e) => setEntries(e.target.value)}
            data-testid="settings-entries"
          />
        </Field>
        <Field label={t('settings.quota')} htmlFor={`${ids}-quota`} error={quotaError}>
          <Input
            id={`${ids}-quota`}
            type="number"
            inputMode="decimal"
            min={1}
            value={quota}
            onChange={(e) => setQuota(e.target.value)}
            data-testid="settings-quota"
          />
        </Field>
      </div>
      <div className="flex gap-2">
        {dirty ? (
          <Button onClick={reset} size="sm">
            {t('common.cancel')}
          </Button>
        ) : null}
        <Button
          type="submit"
          variant="primary"
          size="sm"
          className="flex-1"
          disabled={!dirty || busy || !!entriesError || !!quotaError || !!passwordError}
          data-testid="settings-save"
        >
          {busy ? <Spinner className="text-current" size={14} /> : null}
          {busy ? t('common.saving') : t('settings.save')}
        </Button>
      </div>
    </form>
  );
}

function PermissionToggles() {
  const { t } = useI18n();
  const { room, slug, setMovedTo, moveTo } = useRoom();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmShareOff, setConfirmShareOff] = useState(false);
  const current = {
    edit: hasPermission(room.permission, Permission.EDIT),
    share: hasPermission(room.permission, Permission.SHARE),
    delete: hasPermission(room.permission, Permission.DELETE),
  };

  function request(name: keyof typeof current, value: boolean) {
    // Share off breaks every link to the room: say so first.
    if (name === 'share' && !value) setConfirmShareOff(true);
    else void toggle(name, value);
  }

  async function toggle(name: keyof typeof current, value: boolean) {
    setBusy(name);
    setConfirmShareOff(false);
    try {
      const api = getApi();
      const { session, ...updated } = await api.updatePermissions(slug, { ...current, [name]: value });
      if (updated.slug !== slug && session) {
        // The server handed this page a session at the new address: move there with it.
        api.storeIssued(updated.slug, session);
        api.tokens.remove(slug);
        toast.success(t('permissions.moved'));
        moveTo(updated.slug, updated);
        return;
      }
      queryClient.setQueryData(['room', slug], updated);
      if (updated.slug !== slug) {
        const entry = api.tokens.get(slug);
        if (entry) api.tokens.set(updated.slug, entry);
        setMovedTo(updated.slug);
      }
      toast.success(t('permissions.saved'));
    } catch (error) {
      toast.error(t('permissions.failed'), errorMessage(t, error));
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="flex flex-col gap-3" data-testid="permission-toggles">
      {/* Always on: the switch is shown disabled, the text keeps its full contrast (WCAG 1.4.3). */}
      <div className="flex items-center justify-between gap-3 text-sm">
        <span>
          <span className="block">{t('perm.view')}</span>
          <span className="block text-xs text-muted">{t('perm.viewHint')}</span>
        </span>
        <Switch
          checked
          disabled
          onCheckedChange={() => undefined}
          label={t('perm.view')}
          testId="perm-view"
        />
      </div>
      {(['edit', 'share', 'delete'] as const).map((name) => (
        <div key={name} className="flex items-center justify-between gap-3 text-sm">
          <label htmlFor={`perm-${name}`}>
            <span className="block">{t(`perm.${name}`)}</span>
            <span className="block text-xs text-muted">{t(`perm.${name}Hint`)}</span>
          </label>
          <span className="flex items-center gap-2">
            {busy === name ? <Spinner size={14} /> : null}
            <Switch
              id={`perm-${name}`}
              checked={current[name]}
              disabled={busy !== null}
              onCheckedChange={(v) => request(name, v)}
              testId={`perm-${name}`}
            />
          </span>
        </div>
      ))}
      <Dialog
        open={confirmShareOff}
        onOpenChange={setConfirmShareOff}
        title={t('permissions.shareOffTitle')}
        description={t('permissions.shareOffBody', { room: room.name })}
        size="sm"
        role="alertdialog"
        testId="share-off-dialog"
        footer={
          <>
            <Button onClick={() => setConfirmShareOff(false)}>{t('common.cancel')}</Button>
            <Button
              variant="primary"
              onClick={() => void toggle('share', false)}
              data-testid="share-off-confirm"
            >
              {t('permissions.shareOffConfirm')}
            </Button>
          </>
        }
      />
    </div>
  );
}

function SessionsList() {
  const { t, locale } = useI18n();
  const { slug, jti, connection } = useRoom();
  const toast = useToast();
  const [showAll, setShowAll] = useState(false);
  const query = useQuery({
    queryKey: ['sessions', slug, showAll],
    queryFn: () => getApi().listSessions(slug, showAll),
    refetchInterval: 30_000,
  });
  const [revoking, setRevoking] = useState<string | null>(null);

  async function revoke(target: string) {
    setRevoking(target);
    try {
      await getApi().revokeSession(slug, target);
      toast.success(t('sessions.revoked'));
      await query.refetch();
    } catch (error) {
      toast.error(t('sessions.failed'), errorMessage(t, error));
    } finally {
      setRevoking(null);
    }
  }

  if (query.isLoading) return <Spinner label={t('common.loading')} />;
  if (query.error) return <p className="text-xs text-danger">{errorMessage(t, query.error)}</p>;
  const sessions = query.data ?? [];
  return (
    <div className="flex flex-col gap-2">
      <ul className="flex flex-col gap-1.5" data-testid="sessions-list">
        {sessions.map((session) => {
          const mine = session.jti === jti;
          const inactive = !!session.revoked_at || parseTimestamp(session.expires_at) < Date.now();
          // This page knows its own socket best (the list may predate its connect_ack).
          const connected = mine ? connection === 'open' : session.connected;
          return (
            <li
              key={session.jti}
              className={clsx(
                'flex items-center gap-2.5 rounded-lg border border-border bg-surface px-2.5 py-2 text-xs',
                inactive && 'opacity-55',
              )}
              data-testid="session-row"
              data-connected={connected}
            >
              <span
                aria-hidden
                className={clsx(
                  'h-2 w-2 shrink-0 rounded-full',
                  connected ? 'bg-success' : 'bg-border-strong',
                )}
              />
              <span className="min-w-0 flex-1">
                <span className="flex items-center gap-1.5 font-mono">
                  {session.jti.slice(0, 8)}
                  {mine ? <Badge tone="accent">{t('sessions.you')}</Badge> : null}
                  {session.revoked_at ? <Badge tone="danger">{t('sessions.revokedBadge')}</Badge> : null}
                </span>
                <span className="block text-muted">
                  {t('sessions.since', { time: formatTime(session.created_at, locale) })} ·{' '}
                  {connected ? t('sessions.online') : t('sessions.offline')}
                </span>
              </span>
              {!mine && !inactive ? (
                <Button
                  size="sm"
                  variant="danger-ghost"
                  disabled={revoking === session.jti}
                  onClick={() => void revoke(session.jti)}
                  data-testid="session-revoke"
                  aria-label={t('sessions.revokeLabel', { id: session.jti.slice(0, 8) })}
                >
                  {revoking === session.jti ? (
                    <Spinner size={13} />
                  ) : (
                    <LogIn size={13} aria-hidden className="rotate-180" />
                  )}
                  {t('sessions.revoke')}
                </Button>
              ) : null}
            </li>
          );
        })}
      </ul>
      <label className="flex items-center gap-2 text-xs text-muted" htmlFor="sessions-all">
        <Switch id="sessions-all" checked={showAll} onCheckedChange={setShowAll} />
        {t('sessions.showInactive')}
      </label>
    </div>
  );
}

function DeleteRoom() {
  const { t } = useI18n();
  const { room, slug } = useRoom();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);

  async function confirmDelete() {
    setBusy(true);
    try {
      const api = getApi();
      await api.deleteRoom(slug);
      api.tokens.remove(slug);
      window.location.assign('/');
    } catch (error) {
      setBusy(false);
      toast.error(t('deleteRoom.failed'), errorMessage(t, error));
    }
  }

  return (
    <>
      <Button
        variant="danger-ghost"
        className="w-full justify-start border border-danger/25"
        onClick={() => setOpen(true)}
        data-testid="delete-room-button"
      >
        <Trash2 size={15} aria-hidden />
        {t('deleteRoom.button')}
      </Button>
      <Dialog
        open={open}
        onOpenChange={(next) => {
          if (!busy) {
            setOpen(next);
            setTyped('');
          }
        }}
        title={t('deleteRoom.title', { room: room.name })}
        description={t('deleteRoom.body')}
        size="sm"
        role="alertdialog"
        testId="delete-room-dialog"
        dismissible={!busy}
        footer={
          <>
            <Button onClick={() => setOpen(false)} disabled={busy}>
              {t('common.cancel')}
            </Button>
            <Button
              variant="danger"
              disabled={busy || typed.normalize('NFC') !== room.name}
              onClick={() => void confirmDelete()}
              data-testid="delete-room-confirm"
            >
              {busy ? <Spinner className="text-current" size={14} /> : null}
              {busy ? t('common.deleting') : t('deleteRoom.confirm')}
            </Button>
          </>
        }
      >
        <Field label={t('deleteRoom.typeName', { room: room.name })} htmlFor="delete-room-name">
          <Input
            id="delete-room-name"
            value={typed}
            autoComplete="off"
            onChange={(e) => setTyped(e.target.value)}
            data-testid="delete-room-input"
          />
        </Field>
      </Dialog>
    </>
  );
}

/** Ends this device's session (`POST /auth/logout`) and forgets its token. */
function LeaveRoom() {
  const { t } = useI18n();
  const { slug } = useRoom();
  const [busy, setBusy] = useState(false);
  async function leave() {
    setBusy(true);
    const api = getApi();
    const entry = api.tokens.get(slug);
    try {
      if (entry) await api.logout(entry.token);
    } catch {
      // the session may already be gone; forget it anyway
    }
    api.tokens.remove(slug);
    window.location.assign('/');
  }
  return (
    <Button
      variant="ghost"
      size="sm"
      className="w-full justify-start"
      disabled={busy}
      onClick={() => void leave()}
      data-testid="leave-room"
    >
      {busy ? <Spinner size={14} /> : <LogOut size={15} aria-hidden />}
      {t('controls.leave')}
    </Button>
  );
}
