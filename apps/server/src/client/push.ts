/**
 * `elizabeth push`: tus uploads (tus-js-client) of files, directories (file by file, relative
 * names) and stdin. Resumable across interruptions and re-runs: each file's upload URL is kept
 * in `<cache dir>/uploads/<fingerprint>.json` (path, size, mtime, name, room), so the
 * same command run again asks the server for the offset (HEAD) and sends only the rest.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  type ReadStream,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { lookup } from 'mime-types';
import * as tus from 'tus-js-client';

import { type RoomClient, send } from './api.js';
import { ClientError, EXIT, fromResponse } from './errors.js';
import { formatBytes, type Translate } from './i18n.js';
import { Progress } from './progress.js';
import { FileRange, UploadHttpStack } from './upload-stack.js';
import { FinishedUploads, UploadUrlStorage } from './upload-state.js';

export interface PushOptions {
  name?: string;
  /** Upload even files this cache saw finish and the room still holds. */
  again: boolean;
  parallel: number;
  /** Bytes per PATCH; by default one PATCH sends the whole file (the rest of it, when resuming). */
  chunkSize?: number;
  json: boolean;
  progress: boolean;
}

interface Source {
  path: string;
  /** The name the room shows (relative path for files of a directory). */
  name: string;
  size: number;
  /** Stdin spooled into the cache: fingerprinted by its content. */
  contentHash?: string;
}

export interface PushResult {
  name: string;
  size: number;
  upload_url: string;
  resumed_from: number;
  /** Not sent: an earlier run finished it and the room still has it. */
  skipped: boolean;
}

export async function push(
  client: RoomClient,
  inputs: string[],
  options: PushOptions,
  cacheDir: string,
  t: Translate,
  stdin: NodeJS.ReadableStream,
): Promise<PushResult[]> {
  if (inputs.length === 0) throw new ClientError(t('nothing_to_push'), EXIT.USAGE);
  if (inputs.filter((i) => i === '-').length > 1) throw new ClientError(t('stdin_once'), EXIT.USAGE);
  const sources: Source[] = [];
  for (const input of inputs) {
    if (input === '-') sources.push(await spoolStdin(stdin, cacheDir, options.name ?? 'stdin'));
    else sources.push(...expand(input, t));
  }
  if (options.name !== undefined && sources.length === 1 && inputs[0] !== '-')
    sources[0]!.name = options.name;

  // One PATCH per file unless told otherwise, as `curl -T` sends it: every extra request costs
  // a round trip and the server's per-request work (~20 ms of its CPU here). A PATCH cut short
  // (kill, dropped connection) keeps the bytes that arrived, so resuming needs no chunks;
  // `--chunk-size` is for proxies that limit request bodies.
  const chunkSize = options.chunkSize ?? Number.POSITIVE_INFINITY;
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const urlStorage = new UploadUrlStorage(cacheDir);
  const finished = new FinishedUploads(cacheDir);
  const endpoint = client.uploadsUrl();
  const results: PushResult[] = [];
  let queue = [...sources];
  if (!options.again) {
    // A re-run after an interruption: files an earlier run finished and the room still holds
    // (same name, same size) are not sent again. "Finished" is what this cache recorded, or an
    // upload it started that the server reports finished (the last PATCH arrived, the run was
    // killed before it heard the answer).
    const inRoom = await client.contents('file,image');
    const kept: Source[] = [];
    for (const source of queue) {
      const shown = source.name.replace(/[/\\]/g, '_');
      const fingerprint = fingerprintOf(source, endpoint);
      const held = inRoom.some((c) => c.file_name === shown && c.size === source.size);
      const done = held && (finished.has(fingerprint) || (await uploadGone(client, urlStorage, fingerprint)));
      if (!done) {
        kept.push(source);
        continue;
      }
      finished.add(fingerprint);
      await urlStorage.removeUpload(fingerprint);
      results.push({
        name: source.name,
        size: source.size,
        upload_url: '',
        resumed_from: source.size,
        skipped: true,
      });
      if (!options.json) process.stderr.write(`${t('skipped', { name: source.name })}\n`);
    }
    queue = kept;
  }
  const progress = new Progress(process.stderr, options.progress, t('total'));
  const worker = async () => {
    for (let source = queue.shift(); source; source = queue.shift()) {
      const result = await uploadOne(client, source, { chunkSize, urlStorage, progress, t });
      finished.add(fingerprintOf(source, endpoint));
      if (source.contentHash) rmSync(source.path, { force: true }); // the spooled stdin is sent
      results.push(result);
      if (!options.json) progress.log(t('uploaded', { name: source.name, size: formatBytes(source.size) }));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, queue.length)) }, worker));
  } finally {
    progress.stop();
  }
  return results;
}

/** A file, or every file under a directory with names relative to the directory's parent. */
function expand(input: string, t: Translate): Source[] {
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw new ClientError(t('not_file', { path: input }), EXIT.USAGE);
  }
  if (stat.isFile()) return [{ path: resolve(input), name: basename(input), size: stat.size }];
  if (!stat.isDirectory()) throw new ClientError(t('not_file', { path: input }), EXIT.USAGE);
  const root = resolve(input);
  const parent = resolve(root, '..');
  const out: Source[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        out.push({
          path: full,
          name: relative(parent, full).split(sep).join('/'),
          size: statSync(full).size,
        });
      }
    }
  };
  walk(root);
  return out;
}

/**
 * Stdin is written to `<cache>/spool/<sha256>` first (tus needs the length up front); the same
 * bytes piped again find the same file and resume its upload.
 */
async function spoolStdin(stdin: NodeJS.ReadableStream, cacheDir: string, name: string): Promise<Source> {
  const dir = join(cacheDir, 'spool');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `incoming-${process.pid}`);
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    stdin,
    async function* (chunks: AsyncIterable<Buffer | string>) {
      for await (const raw of chunks) {
        const chunk = Buffer.from(raw);
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(tmp, { mode: 0o600 }),
  );
  const digest = hash.digest('hex');
  const path = join(dir, digest);
  renameSync(tmp, path);
  return { path, name, size, contentHash: digest };
}

function uploadOne(
  client: RoomClient,
  source: Source,
  ctx: { chunkSize: number; urlStorage: tus.UrlStorage; progress: Progress; t: Translate },
): Promise<PushResult> {
  const task = ctx.progress.add(source.name, source.size);
  const endpoint = client.uploadsUrl();
  let resumedFrom = 0;
  let authRetries = 0;
  return new Promise<PushResult>((resolvePromise, reject) => {
    const upload = new tus.Upload(createReadStream(source.path), {
      endpoint,
      chunkSize: ctx.chunkSize,
      fileReader: FILE_READER,
      httpStack: HTTP_STACK,
      uploadSize: source.size,
      metadata: { filename: source.name, filetype: lookup(source.name) || 'application/octet-stream' },
      urlStorage: ctx.urlStorage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      fingerprint: () => Promise.resolve(fingerprintOf(source, endpoint)),
      onBeforeRequest: async (req) => {
        req.setHeader('Authorization', `Bearer ${await client.token()}`);
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD' && res.getStatus() === 200) {
          resumedFrom = Number(res.getHeader('Upload-Offset') ?? 0);
          if (resumedFrom > 0) {
            ctx.progress.log(
              ctx.t('resumed', { name: source.name, offset: formatBytes(resumedFrom) }),
              process.stderr,
            );
            ctx.progress.update(task, resumedFrom);
          }
        }
      },
      onShouldRetry: (error, _attempt, _options) => {
        // The server refused the token request (a bad room name, a wrong password, an expired
        // room): asking again gives the same answer.
        if (answeredByServer(error)) return false;
        const status = error.originalResponse?.getStatus() ?? 0;
        if (status === 401 && authRetries < 1) {
          authRetries += 1;
          client.forget();
          return true;
        }
        if (status === 0 || status >= 500 || status === 409 || status === 423) return true;
        return false;
      },
      onProgress: (sent) => ctx.progress.update(task, sent),
      onError: (error) => {
        const answer = answeredByServer(error);
        if (answer) return reject(answer);
        const res = (error as tus.DetailedError).originalResponse;
        reject(
          res && res.getStatus() >= 400
            ? fromResponse(res.getStatus(), res.getBody())
            : new ClientError(`${source.name}: ${error.message}`, EXIT.OTHER),
        );
      },
      onSuccess: () => {
        ctx.progress.finish(task);
        resolvePromise({
          name: source.name,
          size: source.size,
          upload_url: upload.url ?? '',
          resumed_from: resumedFrom,
          skipped: false,
        });
      },
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (last) upload.resumeFromPreviousUpload(last);
        upload.start();
      })
      .catch(reject);
  });
}

/**
 * tus-js-client's reader for a file (the stream given to it only names the file): each PATCH
 * body is the byte range it asks for, which `UploadHttpStack` sends from reused buffers.
 */
const FILE_READER: NonNullable<tus.UploadOptions['fileReader']> = {
  openFile: async (file: ReadStream) => {
    const path = String(file.path);
    const { size } = await stat(path);
    return {
      size,
      slice: (start: number, end: number) => {
        const last = Math.min(end, size);
        return Promise.resolve({ value: new FileRange(path, start, last), done: last >= size });
      },
      close: () => file.destroy(),
    };
  },
};
const HTTP_STACK = new UploadHttpStack();

/**
 * True when this cache holds an upload for the file that the server no longer takes bytes for:
 * `409` (finished: it became a content) or `404`/`410` (gone).
 */
async function uploadGone(
  client: RoomClient,
  storage: UploadUrlStorage,
  fingerprint: string,
): Promise<boolean> {
  const [previous] = await storage.findUploadsByFingerprint(fingerprint);
  if (!previous?.uploadUrl) return false;
  const res = await send(previous.uploadUrl, {
    method: 'HEAD',
    headers: { authorization: `Bearer ${await client.token()}`, 'tus-resumable': '1.0.0' },
  });
  return res.status === 409 || res.status === 404 || res.status === 410;
}

/**
 * The failure of the client's own step before a tus request (getting a token) when trying again
 * cannot help: the server answered with an error below 500, or a password is needed and none
 * can be asked for. Network failures and 5xx stay retryable.
 */
function answeredByServer(error: Error): ClientError | undefined {
  const cause = (error as tus.DetailedError).causingError;
  if (!(cause instanceof ClientError)) return undefined;
  const final = cause.status !== undefined ? cause.status < 500 : cause.exitCode !== EXIT.OTHER;
  return final ? cause : undefined;
}

/** Same file, same size, same mtime, same room: the same upload. */
function fingerprintOf(source: Source, endpoint: string): string {
  const identity = source.contentHash
    ? `stdin:${source.contentHash}`
    : `${source.path}:${source.size}:${statSync(source.path).mtimeMs}`;
  return createHash('sha256').update(`${identity}|${source.name}|${endpoint}`).digest('hex');
}
