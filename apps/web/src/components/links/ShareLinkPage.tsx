'use client';

import { Download, Upload } from 'lucide-react';
import { useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';

import type { ContentView, OpenShareLinkResponse } from '@elizabeth/protocol';
import { Permission } from '@elizabeth/protocol/constants';
import { apiErrorFromBody, getApi, getApiBase, isApiError } from '@/lib/api-client';
import { useConfig } from '@/lib/config';
import { errorMessage } from '@/lib/errors';
import { formatBytes } from '@/lib/format';
import { useT } from '@/lib/i18n';
import { roomPath } from '@/lib/room-name';
import { retryableTusStatus, statusOf, TUS_RETRY_DELAYS } from '@/lib/uploads';

import { Button } from '../ui/button';
import { Field, PasswordInput, Textarea } from '../ui/input';
import { Alert, FileName, ProgressBar, Spinner } from '../ui/misc';

type State =
  | { kind: 'opening' }
  | { kind: 'password'; wrong: boolean }
  | { kind: 'gone'; reason: string }
  | { kind: 'error'; message: string }
  | { kind: 'drop'; opened: OpenShareLinkResponse }
  | { kind: 'files'; opened: OpenShareLinkResponse; files: ContentView[] };

const reasonOf = (error: unknown) =>
  isApiError(error) ? error.details?.find((d) => d.path === 'reason')?.message : undefined;

/**
 * The page of a share link (`/<room>?s=<secret>`): opens the link, then a drop box (EDIT without
 * VIEW), the files of a file link, or the room itself for a link that views the whole room.
 * The session of a drop box or file link lives in this page only.
 */
export function ShareLinkPage({ secret }: { secret: string }) {
  const t = useT();
  const [state, setState] = useState<State>({ kind: 'opening' });

  const open = useCallback(
    async (password?: string) => {
      setState({ kind: 'opening' });
      const api = getApi();
      try {
        const opened = await api.openShareLink({
          secret,
          with_refresh_token: true,
          ...(password ? { password } : {}),
        });
        const room = opened.claims.room_name;
        document.title = `${room} · Elizabeth`;
        if (opened.link.content_ids) {
          const response = await fetch(`${getApiBase()}/rooms/${encodeURIComponent(room)}/contents`, {
            headers: { Authorization: `Bearer ${opened.token}` },
          });
          const files = response.ok ? ((await response.json()) as ContentView[]) : [];
          setState({ kind: 'files', opened, files });
        } else if ((opened.link.permission & Permission.VIEW) === 0) {
          setState({ kind: 'drop', opened });
        } else {
          // A link to the whole room: its session is the room's session on this device.
          api.storeIssued(room, opened);
          window.location.replace(roomPath(room));
        }
      } catch (error) {
        const reason = reasonOf(error);
        if (reason === 'password_required') setState({ kind: 'password', wrong: password !== undefined });
        else if (isApiError(error) && error.status === 410 && reason) setState({ kind: 'gone', reason });
        else setState({ kind: 'error', message: errorMessage(t, error) });
      }
    },
    [secret, t],
  );

  useEffect(() => {
    void open();
  }, [open]);

  return (
    <main
      className="mx-auto flex min-h-dvh w-full max-w-xl flex-col gap-4 px-4 py-10"
      data-testid="share-link-page"
    >
      {state.kind === 'opening' ? <Spinner label={t('shareLinks.opening')} /> : null}
      {state.kind === 'password' ? <PasswordForm wrong={state.wrong} onSubmit={(p) => void open(p)} /> : null}
      {state.kind === 'gone' ? (
        <Alert tone="danger">
          <span data-testid="share-link-gone" data-reason={state.reason}>
            {t(`shareLinks.gone_${state.reason}`)}
          </span>
        </Alert>
      ) : null}
      {state.kind === 'error' ? <Alert tone="danger">{state.message}</Alert> : null}
      {state.kind === 'drop' ? <DropBox opened={state.opened} /> : null}
      {state.kind === 'files' ? <SharedFiles opened={state.opened} files={state.files} /> : null}
    </main>
  );
}

function PasswordForm({ wrong, onSubmit }: { wrong: boolean; onSubmit: (password: string) => void }) {
  const t = useT();
  const [password, setPassword] = useState('');
  return (
    <form
      className="flex flex-col gap-3"
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        onSubmit(password);
      }}
    >
      <Field
        label={t('shareLinks.password')}
        htmlFor="share-link-password"
        error={wrong ? t('shareLinks.wrongPassword') : undefined}
      >
        <PasswordInput
          id="share-link-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="share-link-password"
          aria-invalid={wrong}
          aria-describedby={wrong ? 'share-link-password-error' : undefined}
        />
      </Field>
      <Button type="submit" data-testid="share-link-password-submit">
        {t('shareLinks.open')}
      </Button>
    </form>
  );
}

interface Sent {
  key: string;
  /** The message, or the file's name and size. */
  label: string;
  file?: { name: string; size: number };
  progress: number;
  failed?: string;
}

/** A drop box: uploads with progress and messages; lists only what this page sent. */
function DropBox({ opened }: { opened: OpenShareLinkResponse }) {
  const t = useT();
  const room = opened.claims.room_name;
  const { config } = useConfig();
  const [sent, setSent] = useState<Sent[]>([]);
  const [text, setText] = useState('');
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const counter = useRef(0);
  // The link's session outlives its access tokens (2 h by default): a page left open renews the
  // token with the refresh token instead of failing every upload after that.
  const session = useRef({ token: opened.token, refresh: opened.refresh_token ?? undefined });
  const renewing = useRef<Promise<void> | undefined>(undefined);
  const renew = () =>
    (renewing.current ??= (async () => {
      const refresh = session.current.refresh;
      if (!refresh) throw new Error('no refresh token');
      const next = await getApi().refresh(refresh);
      session.current = { token: next.access_token, refresh: next.refresh_token };
    })().finally(() => {
      renewing.current = undefined;
    }));
  /** The Authorization header, after any renewal under way. */
  const authorization = async () => {
    await renewing.current?.catch(() => undefined);
    return `Bearer ${session.current.token}`;
  };
  const update = (key: string, patch: Partial<Sent>) =>
    setSent((list) => list.map((item) => (item.key === key ? { ...item, ...patch } : item)));
  /** "Upload failed: <why>", the why from the server's error envelope (a full room, a link gone…). */
  const failure = (status: number, body: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    return `${t('shareLinks.uploadFailed')}: ${errorMessage(t, apiErrorFromBody(status, parsed))}`;
  };

  /**
   * Sends one file with tus, like the room page: a dropped connection retries and resumes from
   * the server's offset, so a visitor's large file survives a flaky network.
   */
  async function upload(file: File) {
    const key = `f${++counter.current}`;
    setSent((list) => [
      ...list,
      {
        key,
        label: `${file.name} (${formatBytes(file.size)})`,
        file: { name: file.name, size: file.size },
        progress: 0,
      },
    ]);
    const { Upload } = await import('tus-js-client');
    const tus = new Upload(file, {
      endpoint: `${getApiBase()}/rooms/${encodeURIComponent(room)}/uploads`,
      chunkSize: config.upload.chunk_size > 0 ? config.upload.chunk_size : Infinity,
      retryDelays: TUS_RETRY_DELAYS,
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      onBeforeRequest: async (request) => {
        request.setHeader('Authorization', await authorization());
      },
      onShouldRetry: (error, attempt) => {
        const status = statusOf(error);
        if (status === 401 && attempt < 2) {
          void renew().catch(() => undefined);
          return true;
        }
        return retryableTusStatus(status);
      },
      onProgress: (loaded, total) =>
        update(key, { progress: total > 0 ? Math.min(99, Math.round((loaded / total) * 100)) : 0 }),
      onSuccess: () => update(key, { progress: 100 }),
      onError: (error) => {
        const response = (error as { originalResponse?: { getStatus(): number; getBody(): string } | null })
          .originalResponse;
        update(key, {
          failed: response ? failure(response.getStatus(), response.getBody()) : t('shareLinks.uploadFailed'),
        });
      },
    });
    tus.start();
  }

  function addFiles(files: FileList | null) {
    for (const file of Array.from(files ?? [])) void upload(file);
  }

  async function sendMessage(event: FormEvent) {
    event.preventDefault();
    const message = text.trim();
    if (!message) return;
    const key = `m${++counter.current}`;
    setSent((list) => [...list, { key, label: message, progress: 0 }]);
    setText('');
    const post = async () =>
      fetch(`${getApiBase()}/rooms/${encodeURIComponent(room)}/messages`, {
        method: 'POST',
        headers: { Authorization: await authorization(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: message }),
      }).catch(() => undefined);
    let response = await post();
    if (
      response?.status === 401 &&
      (await renew().then(
        () => true,
        () => false,
      ))
    )
      response = await post();
    if (response?.status === 201) update(key, { progress: 100 });
    else
      update(key, {
        failed: response ? failure(response.status, await response.text()) : t('shareLinks.uploadFailed'),
      });
  }

  return (
    <section className="flex flex-col gap-4" data-testid="dropbox">
      <h1 className="text-xl font-semibold">{t('shareLinks.dropTitle', { room })}</h1>
      <div
        className={`flex flex-col items-center gap-3 rounded-xl border-2 border-dashed p-8 text-center text-sm ${
          dragging ? 'border-accent bg-accent/10' : 'border-border'
        }`}
        data-testid="dropbox-zone"
        onDragOver={(event: DragEvent) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event: DragEvent) => {
          event.preventDefault();
          setDragging(false);
          addFiles(event.dataTransfer.files);
        }}
      >
        <Upload size={28} aria-hidden />
        <p className="text-muted">{t('shareLinks.dropHint')}</p>
        <input
          ref={input}
          type="file"
          multiple
          className="sr-only"
          data-testid="dropbox-input"
          onChange={(e) => {
            addFiles(e.target.files);
            e.target.value = '';
          }}
        />
        <Button type="button" onClick={() => input.current?.click()}>
          {t('shareLinks.choose')}
        </Button>
      </div>
      <form className="flex flex-col gap-2" onSubmit={(e) => void sendMessage(e)}>
        <Field label={t('shareLinks.message')} htmlFor="dropbox-message" optional>
          <Textarea
            id="dropbox-message"
            value={text}
            onChange={(e) => setText(e.target.value)}
            data-testid="dropbox-message"
          />
        </Field>
        <Button type="submit" data-testid="dropbox-send">
          {t('shareLinks.send')}
        </Button>
      </form>
      <h2 className="text-sm font-semibold">{t('shareLinks.sent')}</h2>
      {sent.length === 0 ? <p className="text-xs text-muted">{t('shareLinks.nothingSent')}</p> : null}
      <ul className="flex flex-col gap-2" data-testid="dropbox-sent">
        {sent.map((item) => (
          <li
            key={item.key}
            className="flex flex-col gap-1 text-sm"
            data-testid="dropbox-sent-item"
            data-done={item.progress === 100}
          >
            {item.file ? (
              <span className="flex min-w-0 items-baseline gap-2">
                <FileName name={item.file.name} className="flex-1" />
                <span className="shrink-0 text-xs text-muted">{formatBytes(item.file.size)}</span>
              </span>
            ) : (
              <span className="truncate">{item.label}</span>
            )}
            {item.failed ? (
              <span className="text-xs text-danger">{item.failed}</span>
            ) : (
              <ProgressBar value={item.progress} label={item.label} />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The files of a file link, each with its download (counted by the server). */
function SharedFiles({ opened, files }: { opened: OpenShareLinkResponse; files: ContentView[] }) {
  const t = useT();
  const [done, setDone] = useState<Set<number>>(new Set());
  const left = opened.link.downloads_left;
  return (
    <section className="flex flex-col gap-3" data-testid="shared-files">
      <h1 className="text-xl font-semibold">{t('shareLinks.filesTitle')}</h1>
      {left !== null ? (
        <p className="text-xs text-muted">{t('shareLinks.downloadsLeftNote', { count: left })}</p>
      ) : null}
      <ul className="flex flex-col gap-2">
        {files.map((file) => (
          <li key={file.id} className="flex items-center gap-3 rounded-lg border border-border p-3 text-sm">
            <FileName name={file.file_name ?? ''} className="flex-1" />
            <span className="text-xs text-muted">{formatBytes(file.size)}</span>
            <a
              href={`${getApiBase()}/contents/${file.id}?token=${encodeURIComponent(opened.token)}`}
              download={file.file_name ?? undefined}
              className="inline-flex items-center gap-1 font-medium text-accent"
              data-testid="shared-file-download"
              onClick={() => setDone((s) => new Set(s).add(file.id))}
            >
              <Download size={14} aria-hidden />
              {done.has(file.id) ? t('shareLinks.downloaded') : t('shareLinks.download')}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
