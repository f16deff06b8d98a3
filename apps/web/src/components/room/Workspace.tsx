'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { clsx } from 'clsx';
import { FolderOpen, MessagesSquare, Settings2 } from 'lucide-react';
import dynamic from 'next/dynamic';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { getApi, getWebSocketUrl } from '@/lib/api-client';
import { Permission, hasPermission } from '@elizabeth/protocol/constants';
import type { ContentView, RoomView, WsMember } from '@elizabeth/protocol';
import { copyText } from '@/lib/clipboard';
import { useConfig } from '@/lib/config';
import { formatBytes } from '@/lib/format';
import { useT } from '@/lib/i18n';
import { usePrefs } from '@/lib/prefs';
import { RoomSocket, type ConnectionState, type ServerFrame } from '@/lib/realtime';
import { decodeClaims } from '@/lib/token-store';
import { updateRoomFiles, useRoomFiles } from '@/lib/room-files';
import { activeUploadBytes } from '@/lib/transfers';
import { uploadFiles } from '@/lib/uploads';

import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { useToast } from '../ui/toast';
import { AddressBanner } from './AddressBanner';
import { Composer } from './Composer';
import { FilesPanel } from './FilesPanel';
import { RoomControls } from './RoomControls';
import { RoomContext, type RoomContextValue } from './room-context';
import { Timeline } from './Timeline';
import { TopBar } from './TopBar';
import { PeoplePanel, PeopleProvider, UploadsInProgress, usePeopleState } from './people';
import { useTimeline, withAuthorName } from './useTimeline';

const PreviewDialog = dynamic(() => import('./PreviewDialog').then((m) => m.PreviewDialog), { ssr: false });

type MobileTab = 'room' | 'chat' | 'files';

/** A room this close to its expiry issues no new token (the server's minimum plus leeway). */
const FINAL_SECONDS_MS = 15_000;

function notify(title: string, body: string, tag: string) {
  try {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !document.hidden)
      return;
    new Notification(title, { body, tag, icon: '/favicon.svg' });
  } catch {
    // not supported in this context
  }
}

export function Workspace({
  slug,
  initialRoom,
  onForcedExit,
  onMoved,
}: {
  slug: string;
  initialRoom: RoomView;
  onForcedExit: (code: string) => void;
  onMoved: (slug: string, room: RoomView) => void;
}) {
  const t = useT();
  const toast = useToast();
  const prefs = usePrefs();
  const queryClient = useQueryClient();
  const { config } = useConfig();
  const api = getApi();

  const roomQuery = useQuery({
    queryKey: ['room', slug],
    queryFn: () => api.getRoom(slug),
    initialData: initialRoom,
    staleTime: 5_000,
  });
  const room = roomQuery.data;
  const filesQuery = useRoomFiles(slug);
  const timeline = useTimeline(slug);
  const { renameAuthor } = timeline;
  const onRenamed = useCallback(
    (member: WsMember) => {
      renameAuthor(member);
      queryClient.setQueryData<ContentView[]>(
        ['files', slug],
        (list) => list && withAuthorName(list, member),
      );
    },
    [renameAuthor, queryClient, slug],
  );
  const { onFrame: peopleFrame, me, members, uploads, rename } = usePeopleState(slug, onRenamed);
  const people = useMemo(() => ({ me, members, uploads, rename }), [me, members, uploads, rename]);

  const [claimsToken, setClaimsToken] = useState(() => api.tokens.get(slug)?.token ?? '');
  useEffect(
    () =>
      api.tokens.subscribe(
        (changed) => changed === slug && setClaimsToken(api.tokens.get(slug)?.token ?? ''),
      ),
    [api, slug],
  );
  const claims = useMemo(() => decodeClaims(claimsToken), [claimsToken]);

  const [online, setOnline] = useState<number | undefined>(undefined);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [movedTo, setMovedTo] = useState<string | undefined>(undefined);
  const [previewId, setPreviewId] = useState<number | null>(null);
  const [manualCopy, setManualCopy] = useState<string | null>(null);
  const [tab, setTab] = useState<MobileTab>('chat');

  // A file's link (`/room#file=42`, the preview's "Copy link") opens its preview once the files load.
  useEffect(() => {
    const match = /^#file=(\d+)$/.exec(window.location.hash);
    if (match) setPreviewId(Number(match[1]));
  }, []);
  const closePreview = useCallback(() => {
    setPreviewId(null);
    if (window.location.hash.startsWith('#file='))
      window.history.replaceState(
        window.history.state,
        '',
        window.location.pathname + window.location.search,
      );
  }, []);

  // ---- realtime ----------------------------------------------------------------------------
  const refreshRoomSoon = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleRoomRefresh = useCallback(() => {
    clearTimeout(refreshRoomSoon.current);
    refreshRoomSoon.current = setTimeout(
      () => void queryClient.invalidateQueries({ queryKey: ['room', slug] }),
      400,
    );
  }, [queryClient, slug]);

  const subscribed = useRef(false);
  const handlersRef = useRef<(frame: ServerFrame) => void>(() => undefined);
  handlersRef.current = (frame) => {
    peopleFrame(frame);
    switch (frame.message_type) {
      case 'connect_ack':
        if (typeof frame.payload?.online === 'number') setOnline(frame.payload.online);
        if (frame.payload?.room) queryClient.setQueryData(['room', slug], frame.payload.room);
        // The lists were asked for before this socket was subscribed: a message or file posted
        // in between reached no socket of this page. List again once (a reconnect re-syncs
        // through onResync).
        if (!subscribed.current) {
          subscribed.current = true;
          resyncRef.current();
        }
        break;
      case 'user_joined':
      case 'user_left':
        if (typeof frame.payload?.online === 'number') setOnline(frame.payload.online);
        // Who is connected changed: the managers' session list follows live.
        void queryClient.invalidateQueries({ queryKey: ['sessions', slug] });
        break;
      case 'sessions_changed':
        void queryClient.invalidateQueries({ queryKey: ['sessions', slug] });
        break;
      case 'share_links_changed':
        void queryClient.invalidateQueries({ queryKey: ['share-links', slug] });
        break;
      case 'content_created':
      case 'content_updated':
      case 'content_deleted': {
        const content = frame.payload?.content;
        if (!content) break;
        const deleted = frame.message_type === 'content_deleted';
        if (content.content_type === 'text') {
          if (deleted) timeline.remove(content.id);
          else timeline.upsert(content);
        } else {
          updateRoomFiles(queryClient, slug, (list) =>
            deleted
              ? list.filter((item) => item.id !== content.id)
              : [...list.filter((item) => item.id !== content.id), content],
          );
        }
        scheduleRoomRefresh();
        if (prefs.notifications && frame.message_type === 'content_created') {
          const subject = (content.text ?? content.file_name ?? content.url ?? '')
            .replace(/\s+/g, ' ')
            .slice(0, 80);
          notify(
            t(
              `notify.${content.content_type === 'text' ? 'message' : content.content_type === 'url' ? 'link' : 'file'}`,
            ),
            `${slug}: ${subject}`,
            `elizabeth:${slug}:${content.id}`,
          );
        }
        break;
      }
      case 'room_updated': {
        const next = frame.payload?.room;
        if (!next) break;
        if (next.slug !== slug) {
          setMovedTo(next.slug);
          const entry = api.tokens.get(slug);
          if (entry) api.tokens.set(next.slug, entry);
        }
        queryClient.setQueryData(['room', slug], next);
        if (prefs.notifications)
          notify(
            t('notify.room'),
            `${slug}: ${t(`notify.reason.${frame.payload.reason}`)}`,
            `elizabeth:${slug}:room`,
          );
        break;
      }
      default:
        break;
    }
  };

  const exitRef = useRef(onForcedExit);
  exitRef.current = onForcedExit;
  const expireAtRef = useRef(Date.parse(room.expire_at));
  expireAtRef.current = Date.parse(room.expire_at);
  const resyncRef = useRef(() => undefined as unknown);
  resyncRef.current = () => {
    void timeline.resync();
    void queryClient.invalidateQueries({ queryKey: ['files', slug] });
    void queryClient.invalidateQueries({ queryKey: ['room', slug] });
  };

  useEffect(() => {
    const socket = new RoomSocket(
      getWebSocketUrl(),
      slug,
      (force) => (force ? api.renew(slug, true) : api.ensureToken(slug)),
      {
        onFrame: (frame) => handlersRef.current(frame),
        onState: setConnection,
        onResync: () => resyncRef.current(),
        onFatal: (code) => {
          if (code === 'address_changed') return; // the banner explains; the page stays usable
          // In its last seconds a room issues no token any more: the expiry timer below ends
          // the page at expire_at instead of a "cannot be entered" a few seconds early.
          if (code !== 'room_deleted' && expireAtRef.current - Date.now() < FINAL_SECONDS_MS) return;
          exitRef.current(code);
        },
      },
    );
    socket.start();
    return () => socket.stop();
  }, [api, slug]);

  // The room ends at expire_at exactly (the server refuses from then on): follow it without
  // waiting for the lifecycle pass to close the socket.
  useEffect(() => {
    const left = Date.parse(room.expire_at) - Date.now();
    if (!Number.isFinite(left) || left > 2 ** 31 - 1) return;
    const timer = setTimeout(() => exitRef.current('room_expired'), Math.max(0, left));
    return () => clearTimeout(timer);
  }, [room.expire_at]);

  // Keep the session fresh while the page is open (refresh shortly before expiry).
  useEffect(() => {
    const timer = setInterval(() => void api.ensureToken(slug).catch(() => undefined), 60_000);
    return () => clearInterval(timer);
  }, [api, slug]);

  // ---- permissions -------------------------------------------------------------------------
  const tokenPermission = claims?.permission ?? room.permission;
  const contentPermission = tokenPermission & room.permission;
  const canManage = hasPermission(tokenPermission, Permission.DELETE);

  // ---- actions -----------------------------------------------------------------------------
  const copy = useCallback(
    async (text: string, successMessage?: string) => {
      if (await copyText(text)) toast.success(successMessage ?? t('common.copied'));
      else setManualCopy(text);
    },
    [t, toast],
  );

  const upload = useCallback(
    (files: File[]) => {
      if (files.length === 0) return;
      if (!hasPermission(contentPermission, Permission.EDIT)) {
        toast.error(t('files.noEditPermission'));
        return;
      }
      const total = files.reduce((sum, file) => sum + file.size, 0);
      const free = room.max_size - room.current_size - activeUploadBytes(slug);
      if (total > free) {
        toast.error(
          t('files.quotaTitle'),
          t('files.quotaBody', { needed: formatBytes(total), free: formatBytes(Math.max(0, free)) }),
        );
        return;
      }
      const maxFile = config.upload.max_file_size;
      const tooBig = maxFile > 0 ? files.find((file) => file.size > maxFile) : undefined;
      if (tooBig) {
        toast.error(t('files.fileTooLarge', { name: tooBig.name, max: formatBytes(maxFile) }));
        return;
      }
      void uploadFiles(files, {
        room: slug,
        chunkSize: config.upload.chunk_size,
        onComplete: () => {
          void queryClient.invalidateQueries({ queryKey: ['files', slug] });
          scheduleRoomRefresh();
        },
        onError: (file, code) => {
          const key = `errors.${code}`;
          const text = t(key);
          toast.error(t('files.uploadFailed', { name: file.name }), text === key ? code : text);
          scheduleRoomRefresh();
        },
      }).catch(() => toast.error(t('files.uploadFailed', { name: files[0]?.name ?? '' })));
    },
    [
      contentPermission,
      room.max_size,
      room.current_size,
      slug,
      config.upload,
      toast,
      t,
      queryClient,
      scheduleRoomRefresh,
    ],
  );

  const value = useMemo<RoomContextValue>(
    () => ({
      slug,
      room,
      tokenPermission,
      contentPermission,
      canManage,
      canEdit: hasPermission(contentPermission, Permission.EDIT),
      canDelete: hasPermission(contentPermission, Permission.DELETE),
      canShare: hasPermission(room.permission, Permission.SHARE),
      online,
      connection,
      jti: claims?.jti,
      upload,
      upsertMessage: timeline.upsert,
      preview: setPreviewId,
      copy,
      movedTo,
      setMovedTo,
      moveTo: onMoved,
    }),
    [
      slug,
      room,
      tokenPermission,
      contentPermission,
      canManage,
      online,
      connection,
      claims?.jti,
      upload,
      timeline.upsert,
      copy,
      movedTo,
      onMoved,
    ],
  );

  const files = filesQuery.data ?? [];
  const previewItem = previewId === null ? undefined : files.find((item) => item.id === previewId);

  const tabs: { id: MobileTab; label: string; icon: typeof Settings2 }[] = [
    { id: 'room', label: t('room.tabs.room'), icon: Settings2 },
    { id: 'chat', label: t('room.tabs.chat'), icon: MessagesSquare },
    { id: 'files', label: t('room.tabs.files'), icon: FolderOpen },
  ];

  const workspace = (
    <RoomContext.Provider value={value}>
      <a
        href="#composer-input"
        className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2 focus:shadow-card"
      >
        {t('room.skipToComposer')}
      </a>
      <div className="flex h-dvh flex-col overflow-hidden" data-testid="room-workspace">
        {movedTo ? <AddressBanner slug={movedTo} /> : null}
        <TopBar />
        <div className="flex min-h-0 flex-1">
          <aside
            id="panel-room"
            aria-label={t('room.tabs.room')}
            data-testid="left-panel"
            className={clsx(
              'min-h-0 w-full shrink-0 overflow-y-auto border-border bg-bg md:block md:w-80 md:border-r',
              tab !== 'room' && 'max-md:hidden',
            )}
          >
            <PeoplePanel />
            <RoomControls />
          </aside>
          <main
            id="panel-chat"
            aria-label={t('room.tabs.chat')}
            data-testid="middle-panel"
            className={clsx(
              'flex min-h-0 min-w-0 flex-1 flex-col bg-surface',
              tab !== 'chat' && 'max-md:hidden',
            )}
          >
            <Timeline timeline={timeline} />
            <Composer />
          </main>
          <aside
            id="panel-files"
            aria-label={t('room.tabs.files')}
            data-testid="right-panel"
            className={clsx(
              'min-h-0 w-full shrink-0 border-border bg-bg md:flex md:w-[22rem] md:border-l lg:w-96',
              tab !== 'files' ? 'max-md:hidden' : 'flex',
            )}
          >
            <div className="flex min-h-0 w-full flex-col">
              <UploadsInProgress />
              <div className="flex min-h-0 flex-1">
                <FilesPanel files={files} loading={filesQuery.isLoading} error={filesQuery.error} />
              </div>
            </div>
          </aside>
        </div>
        <nav
          aria-label={t('room.tabs.label')}
          className="shrink-0 border-t border-border bg-surface pb-[env(safe-area-inset-bottom)] md:hidden"
          data-testid="mobile-tabs"
        >
          <div className="flex" role="tablist" aria-label={t('room.tabs.label')}>
            {tabs.map(({ id, label, icon: Icon }) => (
              <button
                key={id}
                type="button"
                role="tab"
                aria-selected={tab === id}
                aria-controls={`panel-${id}`}
                data-testid={`mobile-tab-${id}`}
                onClick={() => setTab(id)}
                className={clsx(
                  'flex flex-1 flex-col items-center gap-0.5 py-2 text-[0.6875rem] font-medium',
                  tab === id ? 'text-accent-text' : 'text-muted',
                )}
              >
                <Icon size={19} aria-hidden />
                {label}
              </button>
            ))}
          </div>
        </nav>
      </div>
      {previewItem ? <PreviewDialog content={previewItem} onClose={closePreview} /> : null}
      <Dialog
        open={manualCopy !== null}
        onOpenChange={(open) => (open ? undefined : setManualCopy(null))}
        title={t('copy.manualTitle')}
        description={t('copy.manualBody')}
        testId="manual-copy-dialog"
        footer={
          <Button variant="primary" onClick={() => setManualCopy(null)}>
            {t('common.done')}
          </Button>
        }
      >
        <label htmlFor="manual-copy" className="sr-only">
          {t('copy.manualLabel')}
        </label>
        <textarea
          id="manual-copy"
          readOnly
          value={manualCopy ?? ''}
          rows={(manualCopy?.length ?? 0) > 120 ? 6 : 3}
          data-testid="manual-copy-textarea"
          className="w-full resize-none rounded-lg border border-border bg-subtle p-2.5 font-mono text-sm"
          ref={(node) => {
            if (node)
              setTimeout(() => {
                node.focus();
                node.select();
              }, 30);
          }}
          onFocus={(event) => event.currentTarget.select()}
        />
      </Dialog>
    </RoomContext.Provider>
  );
  return <PeopleProvider value={people}>{workspace}</PeopleProvider>;
}
