'use client';

import { Upload, Users } from 'lucide-react';
import { createContext, useCallback, useContext, useMemo, useState, type FormEvent } from 'react';

import type { WsMember, WsUploadInProgress } from '@elizabeth/protocol';
import { DISPLAY_NAME_MAX_LENGTH, normalizeDisplayName } from '@elizabeth/protocol/constants';
import { getApi } from '@/lib/api-client';
import { errorMessage } from '@/lib/errors';
import { rememberName } from '@/lib/display-name';
import { formatBytes } from '@/lib/format';
import { useT } from '@/lib/i18n';
import type { ServerFrame } from '@/lib/realtime';

import { Button } from '../ui/button';
import { Input } from '../ui/input';
import { ProgressBar } from '../ui/misc';
import { Section } from './RoomControls';

/**
 * Who is in the room and who said what (API.md "Display names", docs/WEBSOCKET.md): this
 * session's name, the people connected, and the tus uploads others have in progress, all kept
 * from the room's frames.
 */
export interface People {
  me: WsMember | undefined;
  members: WsMember[];
  uploads: WsUploadInProgress[];
  /** Sets or clears this session's name; remembered in this browser for the next rooms. */
  rename: (name: string) => Promise<void>;
}

const PeopleContext = createContext<People | null>(null);
export const PeopleProvider = PeopleContext.Provider;

/** This session (author id and name) once the room's socket has said; undefined before. */
export function useMe(): WsMember | undefined {
  return useContext(PeopleContext)?.me;
}

function usePeople(): People {
  const value = useContext(PeopleContext);
  if (!value) throw new Error('usePeople outside PeopleProvider');
  return value;
}

/**
 * The room's people from its frames. `onRenamed` lets the caller update the names it shows on
 * messages and files when someone renames.
 */
export function usePeopleState(
  slug: string,
  onRenamed: (member: WsMember) => void,
): People & { onFrame: (frame: ServerFrame) => void } {
  const [me, setMe] = useState<WsMember | undefined>(undefined);
  const [members, setMembers] = useState<WsMember[]>([]);
  const [uploads, setUploads] = useState<Map<number, WsUploadInProgress>>(() => new Map());

  const onFrame = useCallback(
    (frame: ServerFrame) => {
      switch (frame.message_type) {
        case 'connect_ack': {
          const { author_id, display_name } = frame.payload.session;
          setMe({ author_id, display_name });
          setMembers(frame.payload.members ?? []);
          // The server tells the uploads still running right after this frame.
          setUploads(new Map());
          break;
        }
        case 'user_joined':
        case 'user_left':
          if (frame.payload.members) setMembers(frame.payload.members);
          break;
        case 'member_renamed': {
          const member = frame.payload;
          setMe((current) => (current?.author_id === member.author_id ? member : current));
          setMembers((list) => list.map((m) => (m.author_id === member.author_id ? member : m)));
          setUploads((map) => {
            const next = new Map(map);
            for (const [id, upload] of next)
              if (upload.author_id === member.author_id)
                next.set(id, { ...upload, author_name: member.display_name });
            return next;
          });
          onRenamed(member);
          break;
        }
        case 'upload_progress':
          setUploads((map) => new Map(map).set(frame.payload.upload.id, frame.payload.upload));
          break;
        case 'upload_ended':
          setUploads((map) => {
            if (!map.has(frame.payload.id)) return map;
            const next = new Map(map);
            next.delete(frame.payload.id);
            return next;
          });
          break;
        default:
          break;
      }
    },
    [onRenamed],
  );

  const rename = useCallback(
    async (name: string) => {
      const identity = await getApi().updateSession(slug, name);
      const member = { author_id: identity.author_id, display_name: identity.display_name };
      setMe(member);
      rememberName(identity.display_name);
    },
    [slug],
  );

  const list = useMemo(() => [...uploads.values()], [uploads]);
  return { me, members, uploads: list, rename, onFrame };
}

/** "People here": this session's name (editable) and who is connected. */
export function PeoplePanel() {
  const t = useT();
  const { me, members, rename } = usePeople();
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const value = draft ?? me?.display_name ?? '';
  const checked = normalizeDisplayName(value);
  const problem = 'problem' in checked ? checked.problem : undefined;
  const unchanged = 'name' in checked && checked.name === (me?.display_name ?? null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || unchanged || !me) return;
    setBusy(true);
    setError(null);
    try {
      await rename(value);
      setDraft(undefined);
    } catch (err) {
      setError(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  }

  // As the server sorts them; a rename told live may change the order.
  const sorted = useMemo(
    () =>
      [...members].sort((a, b) =>
        a.display_name === null || b.display_name === null
          ? Number(a.display_name === null) - Number(b.display_name === null)
          : a.display_name.localeCompare(b.display_name),
      ),
    [members],
  );
  const shown = problem ? t(`people.problem.${problem}`, { max: DISPLAY_NAME_MAX_LENGTH }) : error;
  return (
    <Section
      title={t('people.title')}
      icon={Users}
      testId="people-section"
      aside={<span className="tabular-nums">{members.length}</span>}
    >
      <form onSubmit={submit} className="mb-3 flex items-end gap-2" noValidate>
        <div className="flex min-w-0 flex-1 flex-col gap-1">
          <label htmlFor="display-name" className="text-xs text-muted">
            {t('people.yourName')}
          </label>
          <Input
            id="display-name"
            value={value}
            placeholder={t('people.namePlaceholder')}
            autoComplete="nickname"
            aria-invalid={!!shown}
            aria-describedby={shown ? 'display-name-error' : undefined}
            onChange={(event) => {
              setDraft(event.target.value);
              setError(null);
            }}
            data-testid="display-name-input"
          />
        </div>
        <Button
          type="submit"
          variant="primary"
          disabled={busy || !!problem || unchanged || !me}
          data-testid="display-name-save"
        >
          {t('common.save')}
        </Button>
      </form>
      {shown ? (
        <p id="display-name-error" className="-mt-2 mb-3 text-xs text-danger" role="alert">
          {shown}
        </p>
      ) : null}
      <ul className="flex flex-col gap-1 text-sm" data-testid="presence-list" aria-label={t('people.here')}>
        {sorted.map((member) => (
          <li key={member.author_id} className="flex items-center gap-2" data-testid="presence-member">
            <span aria-hidden className="h-2 w-2 shrink-0 rounded-full bg-success" />
            <span className={member.display_name ? 'truncate' : 'truncate text-muted italic'}>
              {member.display_name ?? t('people.unnamed')}
            </span>
            {member.author_id === me?.author_id ? (
              <span className="text-xs text-faint">({t('people.you')})</span>
            ) : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** The tus uploads other people have in progress, with their progress (like PairDrop). */
export function UploadsInProgress() {
  const t = useT();
  const { me, uploads } = usePeople();
  const now = Date.now();
  const others = uploads.filter((u) => u.author_id !== me?.author_id && Date.parse(u.expires_at) > now);
  if (others.length === 0) return null;
  return (
    <section
      className="shrink-0 border-b border-border px-4 py-3"
      aria-label={t('people.uploadsTitle')}
      data-testid="others-uploads"
    >
      <h2 className="mb-2 flex items-center gap-2 text-xs font-semibold tracking-wide text-muted uppercase">
        <Upload size={14} aria-hidden />
        {t('people.uploadsTitle')}
      </h2>
      <ul className="flex flex-col gap-2">
        {others.map((upload) => {
          const pct = upload.size > 0 ? (upload.offset / upload.size) * 100 : 0;
          const who = upload.author_name ?? t('people.unnamed');
          return (
            <li key={upload.id} className="flex flex-col gap-1" data-testid="others-upload">
              <p className="flex justify-between gap-2 text-xs">
                <span className="truncate font-medium" title={upload.file_name}>
                  {upload.file_name}
                </span>
                <span className="shrink-0 text-muted tabular-nums">
                  {formatBytes(upload.offset)} / {formatBytes(upload.size)}
                </span>
              </p>
              <ProgressBar value={pct} label={t('people.uploadProgress', { name: upload.file_name, who })} />
              <p className="text-[0.6875rem] text-faint" data-testid="others-upload-author">
                {t('people.uploadBy', { who })}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
