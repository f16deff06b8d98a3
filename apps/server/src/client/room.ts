/** `elizabeth ls | send | tail | open`: what a room holds, posting to it, following it. */
import { type ContentView, WS_CLOSE, WsServerFrame } from '@elizabeth/protocol';
import WebSocket from 'ws';

import { roomPageUrl } from './address.js';
import type { RoomClient } from './api.js';
import { ClientError, EXIT } from './errors.js';
import { formatBytes, type Translate } from './i18n.js';

type Write = (line: string) => void;

export async function ls(client: RoomClient, json: boolean, write: Write, t: Translate): Promise<void> {
  const contents = await client.contents();
  if (json) {
    write(JSON.stringify(contents, null, 2));
    return;
  }
  if (contents.length === 0) {
    write(t('empty_room', { room: client.address.room }));
    return;
  }
  const rows = contents.map((c) => [
    String(c.id),
    kind(c),
    formatBytes(c.size),
    localTime(c.created_at),
    describe(c),
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) {
    write(
      `${r[0]!.padStart(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padStart(widths[2]!)}  ${r[3]}  ${r[4]}`,
    );
  }
}

function kind(c: ContentView): string {
  return c.content_type === 'text' ? 'message' : c.content_type === 'url' ? 'link' : c.content_type;
}

function describe(c: ContentView): string {
  if (c.content_type === 'text') return oneLine(c.text ?? '', 80);
  if (c.content_type === 'url') return `${c.file_name ?? ''} ${c.url ?? ''}`.trim();
  return c.file_name ?? '';
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function send(
  client: RoomClient,
  text: string | undefined,
  link: string | undefined,
  t: Translate,
): Promise<ContentView> {
  if (link !== undefined) return client.sendLink(link, text?.trim() || link);
  if (text === undefined || text.trim() === '') throw new ClientError(t('empty_message'), EXIT.USAGE);
  return client.sendMessage(text);
}

/** One line for a content as `tail` prints it. */
function line(c: ContentView, t: Translate): string {
  // The author's display name, when they set one (names hold no control characters).
  const at = `[${localTime(c.created_at)}] ${c.author_name ? `${c.author_name}: ` : ''}`;
  if (c.content_type === 'text') return `${at}${c.text ?? ''}`;
  if (c.content_type === 'url')
    return `${at}${t('link_event', { name: c.file_name ?? '', url: c.url ?? '' })}`;
  return `${at}${t('file_event', { name: c.file_name ?? '', size: formatBytes(c.size) })}`;
}

export interface TailOptions {
  lines: number;
  follow: boolean;
  json: boolean;
}

/**
 * Prints the room's last messages; with `follow`, stays connected over the WebSocket and prints
 * new messages, links, files, deletions and presence. A dropped connection (server restart,
 * network) is retried with backoff; after each reconnect the messages missed meanwhile are
 * fetched and printed. Resolves only when the room is gone (exit 4) or on a signal.
 */
export async function tail(
  client: RoomClient,
  options: TailOptions,
  write: Write,
  t: Translate,
): Promise<void> {
  let lastId = 0;
  const printed = new Set<number>();
  const print = (c: ContentView) => {
    if (printed.has(c.id)) return;
    printed.add(c.id);
    lastId = Math.max(lastId, c.id);
    write(options.json ? JSON.stringify(c) : line(c, t));
  };
  const catchUp = async () => {
    const page = await client.messages(Math.max(1, Math.min(100, options.lines)));
    for (const item of page.items) if (!options.follow || item.id > lastId || lastId === 0) print(item);
  };
  await catchUp();
  if (!options.follow) return;

  const wsUrl = `${client.api.replace(/^http/, 'ws')}/ws`;
  let delay = 250;
  for (;;) {
    const outcome = await followOnce(client, wsUrl, options, write, t, print, () => {
      delay = 250;
      return catchUp();
    });
    if (outcome.final) throw outcome.final;
    const note = t('reconnecting', { reason: outcome.reason, seconds: (delay / 1000).toFixed(1) });
    process.stderr.write(`${note}\n`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

interface FollowOutcome {
  reason: string;
  final?: ClientError;
}

function followOnce(
  client: RoomClient,
  url: string,
  options: TailOptions,
  write: Write,
  t: Translate,
  print: (c: ContentView) => void,
  onConnected: () => Promise<void>,
): Promise<FollowOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: FollowOutcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    let token: string;
    client.token().then(
      (value) => {
        token = value;
        open();
      },
      (error: unknown) =>
        error instanceof ClientError && error.exitCode !== EXIT.OTHER
          ? done({ reason: error.message, final: error })
          : done({ reason: error instanceof Error ? error.message : String(error) }),
    );
    const open = () => {
      const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
      let pinger: NodeJS.Timeout | undefined;
      socket.on('open', () => {
        socket.send(
          JSON.stringify({ message_type: 'connect', payload: { token, room_name: client.address.room } }),
        );
        pinger = setInterval(() => socket.send(JSON.stringify({ message_type: 'ping' })), 20_000);
      });
      socket.on('message', (data) => {
        let frame: WsServerFrame;
        try {
          frame = WsServerFrame.parse(
            JSON.parse(
              Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data as Buffer)]).toString('utf8'),
            ),
          );
        } catch {
          return;
        }
        if (options.json && frame.message_type !== 'content_created' && frame.message_type !== 'pong') {
          write(JSON.stringify(frame));
        }
        switch (frame.message_type) {
          case 'connect_ack':
            if (!options.json)
              process.stderr.write(
                `${t('connected', { room: client.address.room, online: frame.payload.online })}\n`,
              );
            onConnected().catch(() => undefined);
            break;
          case 'content_created':
            print(frame.payload.content);
            break;
          case 'content_deleted':
            if (!options.json) write(t('deleted_event', { id: frame.payload.content.id }));
            break;
          case 'user_joined':
          case 'user_left':
            if (!options.json) write(t('online', { online: frame.payload.online }));
            break;
          default:
            break;
        }
      });
      socket.on('error', () => undefined); // 'close' follows
      socket.on('close', (code, reason) => {
        if (pinger) clearInterval(pinger);
        const why = reason.toString() || String(code);
        if (
          code === WS_CLOSE.ROOM_DELETED ||
          code === WS_CLOSE.ROOM_EXPIRED ||
          code === WS_CLOSE.ROOM_NOT_FOUND ||
          code === WS_CLOSE.ROOM_EXPIRED_AT_CONNECT
        ) {
          done({ reason: why, final: new ClientError(t('closed', { reason: why }), EXIT.NOT_FOUND) });
          return;
        }
        if (code === WS_CLOSE.PERMISSION_DENIED) {
          done({ reason: why, final: new ClientError(t('closed', { reason: why }), EXIT.AUTH) });
          return;
        }
        if (
          code === WS_CLOSE.AUTHENTICATION_FAILED ||
          code === WS_CLOSE.SESSION_REVOKED ||
          code === WS_CLOSE.PASSWORD_CHANGED
        ) {
          client.forget();
        }
        done({ reason: why });
      });
    };
  });
}

export async function open(client: RoomClient, write: Write): Promise<void> {
  const { default: qrcode } = await import('qrcode');
  const url = roomPageUrl(client.address);
  write(await qrcode.toString(url, { type: 'terminal', small: true }));
  write(url);
}
