/**
 * `elizabeth pull`: downloads files of a room by name or id (or all of them, or the room's zip
 * archive) with resume: bytes go to `<name>.<id>.elizabeth-part` beside the target and a re-run
 * asks for the rest with `Range`; the finished file is renamed into place. Existing files are
 * never overwritten without `--force`; names are made safe for the local file system.
 */
import { createWriteStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { ContentView } from '@elizabeth/protocol';

import type { RoomClient } from './api.js';
import { ClientError, EXIT, fromResponse } from './errors.js';
import { formatBytes, type Translate } from './i18n.js';
import { Progress } from './progress.js';
import { rawGet, rawGetCan } from './raw-get.js';

export interface PullOptions {
  out: string;
  all: boolean;
  zip: boolean;
  force: boolean;
  json: boolean;
  progress: boolean;
}

export interface PullResult {
  id: number | null;
  name: string;
  size: number;
  path: string;
}

export async function pull(
  client: RoomClient,
  selectors: string[],
  options: PullOptions,
  t: Translate,
  stdout: NodeJS.WritableStream,
): Promise<PullResult[]> {
  if (selectors.length === 0 && !options.all && !options.zip)
    throw new ClientError(t('nothing_to_pull'), EXIT.USAGE);
  const toStdout = options.out === '-';
  const files = await client.contents('file,image');
  const chosen =
    options.all || (options.zip && selectors.length === 0) ? files : select(files, selectors, client, t);

  if (options.zip) {
    const ids = options.all || selectors.length === 0 ? undefined : chosen.map((c) => c.id);
    const name = safeFileName(`${client.address.room}.zip`, 0);
    const url = client.archiveUrl(ids);
    if (toStdout) {
      await download(client, url, { stdout }, undefined);
      return [{ id: null, name, size: 0, path: '-' }];
    }
    const path = join(options.out, name);
    mkdirSync(options.out, { recursive: true });
    if (existsSync(path) && !options.force) throw new ClientError(t('exists', { path }), EXIT.OTHER);
    const tmp = `${path}.elizabeth-part`;
    rmSync(tmp, { force: true }); // an archive is generated anew each time: no resume
    await download(client, url, { file: tmp, offset: 0 }, undefined);
    renameSync(tmp, path);
    const size = statSync(path).size;
    if (!options.json) process.stderr.write(`${t('downloaded', { path, size: formatBytes(size) })}\n`);
    return [{ id: null, name, size, path }];
  }

  if (toStdout) {
    if (chosen.length !== 1) throw new ClientError(t('stdout_one'), EXIT.USAGE);
    await download(client, client.downloadUrl(chosen[0]!.id), { stdout }, undefined);
    return [{ id: chosen[0]!.id, name: chosen[0]!.file_name ?? '', size: chosen[0]!.size, path: '-' }];
  }

  mkdirSync(options.out, { recursive: true });
  const used = new Set<string>();
  const plan = chosen.map((content) => {
    const base = safeFileName(content.file_name ?? '', content.id);
    let name = base;
    for (let n = 1; used.has(name.toLowerCase()); n += 1) name = withSuffix(base, n);
    used.add(name.toLowerCase());
    const path = join(options.out, name);
    if (existsSync(path) && !options.force) throw new ClientError(t('exists', { path }), EXIT.OTHER);
    return { content, name, path };
  });
  const progress = new Progress(process.stderr, options.progress, t('total'));
  const results: PullResult[] = [];
  try {
    for (const { content, name, path } of plan) {
      const tmp = join(options.out, `.${name}.${content.id}.elizabeth-part`);
      const offset = existsSync(tmp) ? statSync(tmp).size : 0;
      const task = progress.add(name, content.size, Math.min(offset, content.size));
      await download(client, client.downloadUrl(content.id), { file: tmp, offset }, (done) =>
        progress.update(task, done),
      );
      const size = statSync(tmp).size;
      if (size !== content.size) {
        throw new ClientError(`${name}: ${size} bytes received, ${content.size} expected`, EXIT.OTHER);
      }
      renameSync(tmp, path);
      progress.finish(task);
      results.push({ id: content.id, name: content.file_name ?? name, size, path });
      if (!options.json) progress.log(t('downloaded', { path, size: formatBytes(size) }), process.stderr);
    }
  } finally {
    progress.stop();
  }
  return results;
}

function select(files: ContentView[], selectors: string[], client: RoomClient, t: Translate): ContentView[] {
  return selectors.map((selector) => {
    const byName = files.filter((f) => f.file_name === selector);
    const found =
      byName.at(-1) ?? (/^\d+$/.test(selector) ? files.find((f) => f.id === Number(selector)) : undefined);
    if (!found)
      throw new ClientError(t('not_in_room', { name: selector, room: client.address.room }), EXIT.NOT_FOUND);
    return found;
  });
}

type Target = { stdout: NodeJS.WritableStream } | { file: string; offset: number };

/** Redirects followed at most (a server storing on S3 may answer 302 to a presigned URL). */
const MAX_REDIRECTS = 5;

/**
 * Downloads one GET into a file (appending from `offset` with `Range`, starting over when the
 * server sends the whole file) or into stdout. A `401` enters the room again once; a redirect
 * is followed, without the room token when it leads to another origin.
 */
async function download(
  client: RoomClient,
  url: string,
  target: Target,
  onProgress: ((done: number) => void) | undefined,
): Promise<void> {
  const offset = 'file' in target ? target.offset : 0;
  const origin = new URL(url).origin;
  let location = url;
  for (let attempt = 0, hops = 0; ;) {
    const headers: Record<string, string> = {};
    if (new URL(location).origin === origin) headers.authorization = `Bearer ${await client.token()}`;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const outcome = await getOnce(location, headers, target, onProgress);
    if (outcome.kind === 'written') return;
    const { status, body } = outcome;
    if (status === 401 && attempt === 0 && location === url) {
      attempt += 1;
      client.forget();
      continue;
    }
    if (status === 416 && offset > 0) {
      // the part file already holds every byte
      onProgress?.(offset);
      return;
    }
    const next = outcome.headers.location;
    if (status >= 300 && status < 400 && next && hops < MAX_REDIRECTS) {
      hops += 1;
      location = new URL(next, location).toString();
      continue;
    }
    throw fromResponse(status, body.toString('utf8'));
  }
}

type Outcome =
  | { kind: 'written' }
  | { kind: 'answer'; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

/**
 * One GET: a 200/206 body goes to the target (a file from `offset` when the answer is 206,
 * from the start when 200); any other answer comes back with its body. Into a file over plain
 * HTTP it takes the reused-buffer reader (raw-get.ts), else node:http.
 */
async function getOnce(
  url: string,
  headers: Record<string, string>,
  target: Target,
  onProgress: ((done: number) => void) | undefined,
): Promise<Outcome> {
  const offset = 'file' in target ? target.offset : 0;
  const from = (status: number) => (status === 206 ? offset : 0);
  if ('file' in target && rawGetCan(new URL(url))) {
    let start = 0;
    const raw = await rawGet(
      new URL(url),
      headers,
      (status) => {
        start = from(status);
        return openSync(target.file, start > 0 ? 'a' : 'w');
      },
      onProgress && ((bytes) => onProgress(start + bytes)),
    );
    if (raw.kind !== 'unsupported') return raw.kind === 'written' ? { kind: 'written' } : raw;
  }
  const res = await get(url, headers);
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { kind: 'answer', status, headers: res.headers, body: Buffer.concat(chunks) };
  }
  let done = from(status);
  if (onProgress) res.on('data', (chunk: Buffer) => onProgress((done += chunk.length)));
  const sink =
    'stdout' in target
      ? target.stdout
      : createWriteStream(target.file, { flags: from(status) > 0 ? 'a' : 'w', highWaterMark: 1024 * 1024 });
  await pipeline(res, sink, { end: !('stdout' in target) });
  return { kind: 'written' };
}

function get(url: string, headers: Record<string, string>): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const module = url.startsWith('https:') ? https : http;
    const req = module.get(url, { headers }, resolve);
    req.on('error', (error) =>
      reject(new ClientError(`${new URL(url).origin}: ${error.message}`, EXIT.OTHER)),
    );
  });
}

const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * A name any local file system takes: no path separators, no characters Windows refuses, no
 * control characters, no leading dots or trailing dots/spaces, not a reserved device name,
 * at most 255 UTF-8 bytes; an empty result becomes `file-<id>`.
 */
export function safeFileName(raw: string, id: number): string {
  // eslint-disable-next-line no-control-regex
  let name = raw.normalize('NFC').replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_');
  name = name.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (RESERVED.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name) > 255) {
    const chars = [...name];
    while (Buffer.byteLength(chars.join('')) > 255) chars.pop();
    name = chars.join('');
  }
  return name === '' ? `file-${id}` : name;
}

function withSuffix(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
