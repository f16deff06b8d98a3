'use client';

import * as Tabs from '@radix-ui/react-tabs';
import { clsx } from 'clsx';
import { ArrowRight, Clock, Dices, FileUp, Lock, MessageSquareText, SlidersHorizontal } from 'lucide-react';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';

import { getApi, isApiError } from '@/lib/api-client';
import { Permission } from '@elizabeth/protocol/constants';
import { useConfig } from '@/lib/config';
import { errorMessage } from '@/lib/errors';
import { formatBytes } from '@/lib/format';
import { useI18n } from '@/lib/i18n';
import {
  ROOM_SLUG_MAX,
  normalizeRoomName,
  randomRoomName,
  roomNameProblem,
  roomPath,
  type RoomNameProblem,
} from '@/lib/room-name';

import { LanguageMenu, Logo, ThemeButton } from '../Chrome';
import { ExpirySelect } from '../ExpirySelect';
import { Button, IconButton } from '../ui/button';
import { Field, Input, PasswordInput } from '../ui/input';
import { Alert, Spinner, Switch } from '../ui/misc';

const MIB = 1024 * 1024;

function useNameProblem(value: string, maxLength?: number): RoomNameProblem | undefined {
  return useMemo(() => roomNameProblem(normalizeRoomName(value), maxLength), [value, maxLength]);
}

export function HomeView() {
  const { t } = useI18n();
  const [tab, setTab] = useState('create');
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="mx-auto flex w-full max-w-5xl items-center justify-between px-5 py-4">
        <Logo />
        <div className="flex items-center gap-1">
          <LanguageMenu />
          <ThemeButton />
        </div>
      </header>
      {/* On a phone the form follows the headline directly (above the fold); the features come after it. */}
      <main className="mx-auto grid w-full max-w-5xl flex-1 items-start gap-6 px-5 pt-2 pb-16 md:grid-cols-[1fr_26rem] md:grid-rows-[auto_1fr] md:gap-x-10 md:gap-y-0 md:pt-16">
        <section className="md:col-start-1 md:row-start-1 md:pt-6">
          <h1 className="text-2xl font-semibold tracking-tight text-balance sm:text-4xl">
            {t('home.headline')}
          </h1>
          <p className="mt-2 max-w-md text-sm leading-relaxed text-muted sm:mt-4 sm:text-[0.9375rem]">
            {t('home.tagline')}
          </p>
        </section>
        <section className="rounded-2xl border border-border bg-surface shadow-card md:col-start-2 md:row-span-2 md:row-start-1">
          <Tabs.Root value={tab} onValueChange={setTab}>
            <Tabs.List className="flex gap-1 border-b border-border p-1.5" aria-label={t('home.tabsLabel')}>
              {(['create', 'join'] as const).map((value) => (
                <Tabs.Trigger
                  key={value}
                  value={value}
                  data-testid={`home-tab-${value}`}
                  className="flex-1 rounded-lg px-3 py-2 text-sm font-medium text-muted transition-colors hover:text-fg data-[state=active]:bg-subtle data-[state=active]:text-fg"
                >
                  {t(`home.tab.${value}`)}
                </Tabs.Trigger>
              ))}
            </Tabs.List>
            <Tabs.Content value="create" className="p-5 focus:outline-none">
              <CreateForm />
            </Tabs.Content>
            <Tabs.Content value="join" className="p-5 focus:outline-none">
              <JoinForm />
            </Tabs.Content>
          </Tabs.Root>
        </section>
        <section className="md:col-start-1 md:row-start-2">
          <ul className="grid max-w-md gap-4 text-sm md:mt-8">
            {[
              { icon: MessageSquareText, title: t('home.feature.live'), body: t('home.feature.liveBody') },
              { icon: FileUp, title: t('home.feature.files'), body: t('home.feature.filesBody') },
              { icon: Clock, title: t('home.feature.expiry'), body: t('home.feature.expiryBody') },
            ].map(({ icon: Icon, title, body }) => (
              <li key={title} className="flex gap-3">
                <span className="mt-0.5 flex h-8 w-8 shrink-0 items-center justify-center rounded-lg border border-border bg-surface text-accent-text">
                  <Icon size={16} aria-hidden />
                </span>
                <span>
                  <span className="block font-medium">{title}</span>
                  <span className="block text-muted">{body}</span>
                </span>
              </li>
            ))}
          </ul>
          <RecentRooms />
        </section>
      </main>
      <footer className="py-6 text-center text-xs text-faint">{t('home.footer')}</footer>
    </div>
  );
}

function RecentRooms() {
  const { t } = useI18n();
  const [rooms, setRooms] = useState<string[]>([]);
  useEffect(() => {
    const store = getApi().tokens;
    store.prune(Date.now());
    setRooms(store.list().slice(-5).reverse());
  }, []);
  if (rooms.length === 0) return null;
  return (
    <div className="mt-10 max-w-md">
      <h2 className="text-xs font-medium tracking-wide text-faint uppercase">{t('home.recent')}</h2>
      <ul className="mt-2 flex flex-wrap gap-2">
        {rooms.map((slug) => (
          <li key={slug}>
            <a
              href={roomPath(slug)}
              className="inline-flex max-w-[16rem] items-center gap-1.5 truncate rounded-full border border-border bg-surface px-3 py-1 text-sm hover:border-border-strong"
            >
              <span className="truncate">{slug}</span>
              <ArrowRight size={13} aria-hidden className="text-faint" />
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

function NameHint({
  problem,
  touched,
  id,
}: {
  problem: RoomNameProblem | undefined;
  touched: boolean;
  id: string;
}) {
  const { t } = useI18n();
  if (!touched || !problem)
    return (
      <p id={id} className="text-xs text-muted">
        {t('name.rules')}
      </p>
    );
  return (
    <p id={id} className="text-xs text-danger" role="alert" data-testid="room-name-error">
      {t(`name.${problem}`)}
    </p>
  );
}

function CreateForm() {
  const { t } = useI18n();
  const { config } = useConfig();
  const ids = useId();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [showOptions, setShowOptions] = useState(false);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [age, setAge] = useState<number | undefined>(undefined);
  const [maxEntries, setMaxEntries] = useState('');
  const [quotaMb, setQuotaMb] = useState('');
  const [perms, setPerms] = useState({ edit: true, share: true, delete: true });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = useNameProblem(name, config.room.name.max_length || undefined);

  const ages = config.room.expiry.allowed_ages_seconds;
  const selectedAge = age ?? config.room.expiry.default_age_seconds;
  const limits = config.room.limits;

  const passwordProblem =
    password.length > 0 && (password.length < 4 || password.length > 100)
      ? t('password.length')
      : password !== confirm && confirm.length > 0
        ? t('password.mismatch')
        : undefined;
  const entriesNumber = maxEntries === '' ? undefined : Number(maxEntries);
  const entriesProblem =
    entriesNumber !== undefined &&
    (!Number.isInteger(entriesNumber) || entriesNumber < 1 || entriesNumber > limits.max_times_entered)
      ? t('create.entriesRange', { max: limits.max_times_entered })
      : undefined;
  const quotaNumber = quotaMb === '' ? undefined : Number(quotaMb);
  const maxQuotaMb = Math.floor(limits.max_size / MIB);
  const quotaProblem =
    quotaNumber !== undefined &&
    (!Number.isFinite(quotaNumber) || quotaNumber <= 0 || quotaNumber > maxQuotaMb)
      ? t('create.quotaRange', { max: formatBytes(limits.max_size) })
      : undefined;

  const [taken, setTaken] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    setError(null);
    // An empty name means "make one up" (as the form's description promises).
    const typed = normalizeRoomName(name);
    const roomName = typed || randomRoomName();
    if ((typed && problem) || passwordProblem || entriesProblem || quotaProblem) return;
    setTaken(null);
    if (password && password !== confirm) {
      setError(t('password.mismatch'));
      return;
    }
    setBusy(true);
    const api = getApi();
    try {
      const room = await api.createRoom(roomName, {
        ...(password ? { password } : {}),
        ...(age !== undefined ? { age_seconds: age } : {}),
        ...(entriesNumber !== undefined ? { max_times_entered: entriesNumber } : {}),
        ...(quotaNumber !== undefined ? { max_size: Math.round(quotaNumber * MIB) } : {}),
      });
      const issued = await api.issueToken(room.slug, {
        ...(password ? { password } : {}),
        with_refresh_token: true,
      });
      api.storeIssued(room.slug, issued);
      let slug = room.slug;
      const wanted =
        Permission.VIEW |
        (perms.edit ? Permission.EDIT : 0) |
        (perms.share ? Permission.SHARE : 0) |
        (perms.delete ? Permission.DELETE : 0);
      if (wanted !== room.permission) {
        const updated = await api.updatePermissions(room.slug, perms);
        if (updated.slug !== slug) {
          // Share off moved the room: the server hands over a session for the private address.
          if (updated.session) api.storeIssued(updated.slug, updated.session);
          api.tokens.remove(slug);
          slug = updated.slug;
        }
      }
      window.location.assign(roomPath(slug));
    } catch (err) {
      setBusy(false);
      if (isApiError(err, 'CONFLICT')) {
        setError(t('create.taken'));
        setTaken(roomName);
      } else setError(errorMessage(t, err));
    }
  }

  const nameId = `${ids}-name`;
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4" data-testid="create-room-form">
      <div>
        <h2 className="text-base font-semibold">{t('create.title')}</h2>
        <p className="mt-0.5 text-sm text-muted">{t('create.description')}</p>
      </div>
      <div className="flex flex-col gap-1.5">
        <label htmlFor={nameId} className="text-[0.8125rem] font-medium">
          {t('create.name')}
        </label>
        <div className="flex gap-2">
          <Input
            id={nameId}
            value={name}
            autoFocus
            autoComplete="off"
            spellCheck={false}
            placeholder={t('create.namePlaceholder')}
            aria-invalid={touched && !!problem}
            aria-describedby={`${nameId}-hint`}
            data-testid="create-room-name"
            onChange={(event) => {
              setName(event.target.value);
              setTouched(event.target.value.length > 0);
              setError(null);
            }}
            onBlur={() => setTouched(name.length > 0)}
          />
          <IconButton
            label={t('create.random')}
            variant="secondary"
            onClick={() => {
              setName(randomRoomName());
              setTouched(true);
            }}
          >
            <Dices size={16} aria-hidden />
          </IconButton>
        </div>
        <NameHint problem={problem} touched={touched} id={`${nameId}-hint`} />
      </div>

      <button
        type="button"
        className="flex items-center gap-2 self-start rounded-md text-sm font-medium text-muted hover:text-fg"
        aria-expanded={showOptions}
        aria-controls={`${ids}-options`}
        onClick={() => setShowOptions((value) => !value)}
        data-testid="create-room-options-toggle"
      >
        <SlidersHorizontal size={15} aria-hidden />
        {showOptions ? t('create.hideOptions') : t('create.showOptions')}
      </button>

      <div
        id={`${ids}-options`}
        hidden={!showOptions}
        className="flex flex-col gap-4 rounded-xl border border-border bg-subtle/60 p-4"
      >
        <Field
          label={
            <span className="inline-flex items-center gap-1.5">
              <Lock size={13} aria-hidden />
              {t('create.password')}
            </span>
          }
          htmlFor={`${ids}-pw`}
          optional
          hint={t('create.passwordHint')}
        >
          <PasswordInput
            id={`${ids}-pw`}
            value={password}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
            data-testid="create-room-password"
            aria-invalid={!!passwordProblem && password.length > 0}
          />
        </Field>
        <Field label={t('create.confirmPassword')} htmlFor={`${ids}-pw2`} error={passwordProblem}>
          <PasswordInput
            id={`${ids}-pw2`}
            value={confirm}
            disabled={!password}
            autoComplete="new-password"
            onChange={(e) => setConfirm(e.target.value)}
            data-testid="create-room-password-confirm"
          />
        </Field>
        <Field label={t('create.expiry')} htmlFor={`${ids}-age`}>
          <ExpirySelect
            id={`${ids}-age`}
            ages={ages}
            value={selectedAge}
            onChange={setAge}
            testId="create-room-expiry"
          />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field
            label={t('create.entries')}
            htmlFor={`${ids}-entries`}
            error={entriesProblem}
            hint={t('create.defaultValue', { value: config.room.defaults.max_times_entered })}
          >
            <Input
              id={`${ids}-entries`}
              type="number"
              inputMode="numeric"
              min={1}
              max={limits.max_times_entered}
              value={maxEntries}
              placeholder={String(config.room.defaults.max_times_entered)}
              onChange={(e) => setMaxEntries(e.target.value)}
              data-testid="create-room-entries"
            />
          </Field>
          <Field
            label={t('create.quota')}
            htmlFor={`${ids}-quota`}
            error={quotaProblem}
            hint={t('create.defaultValue', { value: formatBytes(config.room.defaults.max_size) })}
          >
            <Input
              id={`${ids}-quota`}
              type="number"
              inputMode="decimal"
              min={1}
              max={maxQuotaMb}
              value={quotaMb}
              placeholder={String(Math.round(config.room.defaults.max_size / MIB))}
              onChange={(e) => setQuotaMb(e.target.value)}
              data-testid="create-room-quota"
            />
          </Field>
        </div>
        <fieldset className="flex flex-col gap-2" data-testid="create-room-permissions">
          <legend className="mb-1.5 text-[0.8125rem] font-medium">{t('create.permissions')}</legend>
          {(['edit', 'share', 'delete'] as const).map((perm) => (
            <div key={perm} className="flex items-center justify-between gap-3">
              <label htmlFor={`${ids}-perm-${perm}`} className="text-sm">
                <span className="block">{t(`perm.${perm}`)}</span>
                <span className="block text-xs text-muted">{t(`perm.${perm}Hint`)}</span>
              </label>
              <Switch
                id={`${ids}-perm-${perm}`}
                checked={perms[perm]}
                onCheckedChange={(checked) => setPerms((p) => ({ ...p, [perm]: checked }))}
                testId={`create-room-perm-${perm}`}
              />
            </div>
          ))}
        </fieldset>
      </div>

      {error ? (
        <Alert>
          {error}
          {taken ? (
            <>
              {' '}
              <a
                href={roomPath(taken)}
                className="font-medium underline underline-offset-2"
                data-testid="create-room-join"
              >
                {t('create.join', { room: taken })}
              </a>
            </>
          ) : null}
        </Alert>
      ) : null}
      <Button type="submit" variant="primary" size="lg" disabled={busy} data-testid="create-room-submit">
        {busy ? <Spinner className="text-current" /> : null}
        {busy ? t('create.creating') : t('create.submit')}
      </Button>
    </form>
  );
}

function JoinForm() {
  const { t } = useI18n();
  const ids = useId();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const problem = useNameProblem(name, ROOM_SLUG_MAX);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (problem) return;
    window.location.assign(roomPath(normalizeRoomName(name)));
  }

  const nameId = `${ids}-join`;
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4" data-testid="join-room-form">
      <div>
        <h2 className="text-base font-semibold">{t('join.title')}</h2>
        <p className="mt-0.5 text-sm text-muted">{t('join.description')}</p>
      </div>
      <div className="flex flex-col gap-1.5">
        <label htmlFor={nameId} className="text-[0.8125rem] font-medium">
          {t('join.name')}
        </label>
        <Input
          id={nameId}
          value={name}
          autoComplete="off"
          spellCheck={false}
          placeholder={t('join.placeholder')}
          aria-invalid={touched && !!problem}
          aria-describedby={`${nameId}-hint`}
          data-testid="join-room-name"
          onChange={(event) => {
            setName(event.target.value);
            setTouched(event.target.value.length > 0);
          }}
        />
        <NameHint problem={problem} touched={touched} id={`${nameId}-hint`} />
      </div>
      <Button
        type="submit"
        variant="primary"
        size="lg"
        disabled={name.trim().length === 0}
        data-testid="join-room-submit"
        className={clsx('gap-2')}
      >
        {t('join.submit')}
        <ArrowRight size={16} aria-hidden />
      </Button>
    </form>
  );
}
