#!/usr/bin/env node
// `npm run bench`: the performance harness of docs/BENCHMARKS.md and the targets of QUALITY.md.
// Starts the BUILT server on 127.0.0.1 with a temporary data dir and measures every figure against
// a baseline taken in the same run. Exits non-zero only when a correctness check fails (wrong
// bytes, a lost or reordered message, a request our server refused) — never for a missed target.
//
//   npm run bench                  full run (1 GiB transfers, 3 rounds)
//   npm run bench -- --quick       smoke run (128 MiB, 1 round; well under two minutes)
//   npm run bench -- --peer        adds droppy and PsiTransfer, side by side (scripts/bench/droppy.mjs,
//                                  scripts/bench/psitransfer.mjs)
//   npm run bench -- --check       harness self-check: also fails when a row could not be measured;
//                                  writes bench/results/check.json instead of latest.json
//   --size <MiB>  --rounds <n>  --out <file>  override the defaults
//   --node-flags="<flags>"        the server's Node flags instead of the binary's shebang ones
//   --transfers-only               stop after the transfer rows (A/B runs of one change)
//   --client-only                  only the terminal client's rows (client_push, client_pull vs curl)
//   --messages-only                only cold start, idle RSS and the message-post rows (with their baseline)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { download, chunkedUpload, multipartUpload } from './bench/transfers.mjs';
import { clientTransfers } from './bench/client.mjs';
import { fanOut } from './bench/realtime.mjs';
import { postLoad } from './bench/messages.mjs';
import { clearDroppy, droppyUpload, locateDroppy, startDroppy } from './bench/droppy.mjs';
import {
  clearPsiTransfer,
  locatePsiTransfer,
  psiTransferUpload,
  startPsiTransfer,
} from './bench/psitransfer.mjs';
import {
  MiB,
  cpuMsOf,
  freePort,
  json,
  median,
  memoryOf,
  sampleRss,
  restartPeak,
  spawnNode,
  stopChild,
  timed,
  waitForHttp,
  writeRandomFile,
} from './bench/lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peer: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    size: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    'node-flags': { type: 'string' },
    'transfers-only': { type: 'boolean', default: false },
    'client-only': { type: 'boolean', default: false },
    'messages-only': { type: 'boolean', default: false },
  },
});

const quick = args.quick || args.check;
const plan = {
  mode: args.check ? (args.quick ? 'quick+check' : 'check') : quick ? 'quick' : 'full',
  transferBytes: Number(args.size ?? (quick ? 128 : 1024)) * MiB,
  chunkBytes: 8 * MiB,
  rounds: Number(args.rounds ?? (quick ? 1 : 3)),
  coldStarts: quick ? 1 : 3,
  idleSettleMs: quick ? 1_000 : 3_000,
  // Idle RSS is read once the server has had no request for this long after its start: V8 gives
  // its start-up young generation back (the memory reducer) only after several quiet seconds.
  idleAfterStartMs: quick ? 20_000 : 30_000,
  messageConnections: 50,
  messageSeconds: quick ? 3 : 10,
  warmupSeconds: 1,
  fanOut: quick
    ? [
        { sockets: 100, messages: 200 },
        { sockets: 1000, messages: 20 },
      ]
    : [
        { sockets: 100, messages: 1000 },
        { sockets: 1000, messages: 100 },
      ],
};
const outFile = args.out ?? join(root, 'bench/results', args.check ? 'check.json' : 'latest.json');

const serverBin = join(root, 'apps/server/bin/elizabeth.js');
/**
 * Node flags from the `elizabeth` binary's shebang, so the bench runs the server as shipped;
 * `--node-flags "<flags>"` replaces them (A/B runs of a V8 flag, e.g. `--node-flags=""`).
 */
const serverNodeFlags = (args['node-flags'] ?? readFileSync(serverBin, 'utf8').split('\n')[0])
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));
const serverDist = join(root, 'apps/server/dist/index.js');
const baselineScript = join(root, 'scripts/bench/baseline-server.mjs');
const webOut = join(root, 'apps/web/out/index.html');

const work = mkdtempSync(join(tmpdir(), 'elizabeth-bench-'));
const children = new Set();
const failures = []; // correctness failures: the exit code
const rows = [];
const started = Date.now();
const MB = 1_000_000;

const log = (line) =>
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

function fail(what) {
  failures.push(what);
  console.log(`  CORRECTNESS FAILURE: ${what}`);
}

/**
 * One table row. `target`: {ratioAtLeast} (against the baseline), {atMost} or {atLeast} (of
 * the value), or undefined for a figure that is reported only.
 */
function row(id, what, unit, value, { baseline, target, note } = {}) {
  const ratio = value !== undefined && baseline ? value / baseline : undefined;
  let met;
  if (target && value !== undefined && Number.isFinite(value)) {
    if (target.ratioAtLeast !== undefined) met = ratio !== undefined && ratio >= target.ratioAtLeast;
    else if (target.atMost !== undefined) met = value <= target.atMost;
    else if (target.atLeast !== undefined) met = value >= target.atLeast;
  }
  const entry = { id, what, unit, value: value ?? null, baseline: baseline ?? null, ratio: ratio ?? null };
  Object.assign(entry, { target: target ?? null, met: met ?? null, note: note ?? null });
  rows.push(entry);
  return entry;
}

function errorRow(id, what, unit, error, target) {
  const message = error instanceof Error ? error.message : String(error);
  log(`  ${id} could not be measured: ${message}`);
  rows.push({
    id,
    what,
    unit,
    value: null,
    baseline: null,
    ratio: null,
    target: target ?? null,
    met: null,
    note: `not measured: ${message}`,
  });
}

const secretFor = () => randomBytes(32).toString('hex');

/** Spawns `elizabeth serve` (built) with a fresh data dir; resolves once /api/v1/health is 200. */
async function startElizabeth(label) {
  const dataDir = join(work, `server-${label}`);
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const start = performance.now();
  const handle = spawnNode(
    [...serverNodeFlags, serverBin, 'serve', '--port', String(port), '--listen-addr', '127.0.0.1'],
    {
      cwd: dataDir,
      logFile: join(dataDir, 'server.log'),
      env: {
        DATA_DIR: join(dataDir, 'data'),
        JWT_SECRET: secretFor(),
        LOG_FORMAT: 'json',
        // One room takes every socket of the fan-out and every byte of the transfers.
        REALTIME_MAX_CONNECTIONS_PER_ROOM: '5000',
        REALTIME_MAX_CONNECTIONS: '10000',
        // The fan-out's 1 000 sockets all come from 127.0.0.1 (default caps: 128 connections,
        // 100 sockets per client address).
        MAX_CONNECTIONS_PER_CLIENT: '5000',
        REALTIME_MAX_CONNECTIONS_PER_CLIENT: '5000',
        ROOM_LIMIT_MAX_SIZE: '16GiB',
        UPLOAD_MAX_FILE_SIZE: '16GiB',
        UPLOAD_MAX_REQUEST_SIZE: '16GiB',
        // The rate limit stays on (its hook is part of every request's cost) but one client
        // address drives the whole load, so its allowance is lifted like the limits above.
        MIDDLEWARE_RATE_LIMIT_PER_SECOND: '1000000',
        MIDDLEWARE_RATE_LIMIT_BURST_SIZE: '1000000',
        CONFIG_FILE: '',
      },
    },
  );
  children.add(handle);
  await waitForHttp(`${base}/api/v1/health`, { exited: handle.exited });
  return {
    handle,
    base,
    pid: handle.child.pid,
    coldMs: performance.now() - start,
    startedAt: start,
    dataDir,
  };
}

async function stop(handle) {
  await stopChild(handle);
  children.delete(handle);
}

async function startBaseline(kind, dir, downloadFile) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const handle = spawnNode(
    [baselineScript, kind, String(port), dir, ...(downloadFile ? [downloadFile] : [])],
    {
      cwd: dir,
      logFile: join(dir, `${kind}.log`),
    },
  );
  children.add(handle);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health`, { exited: handle.exited });
  return { handle, base };
}

/** Creates a room with room for the transfers and enters it; resolves with its token. */
async function enterRoom(base, name) {
  await json(`${base}/api/v1/rooms/${name}`, {
    method: 'POST',
    body: { max_size: 16 * 1024 * MiB, max_times_entered: 1000 },
  });
  const issued = await json(`${base}/api/v1/rooms/${name}/tokens`, { method: 'POST', body: {} });
  return issued.token;
}

const throughput = (bytes, ms) => bytes / MiB / (ms / 1000); // MiB/s

async function main() {
  if (!existsSync(serverDist)) {
    console.error(
      'The server is not built: run `npm run build` first (the bench measures the built server).',
    );
    process.exit(2);
  }
  const machine = {
    nproc: Number(execFileSync('nproc').toString().trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gib: +(totalmem() / 1024 ** 3).toFixed(1),
    free_memory_gib_at_start: +(freemem() / 1024 ** 3).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg_at_start: (await import('node:os')).loadavg().map((n) => +n.toFixed(2)),
  };
  log(
    `mode ${plan.mode}: ${plan.transferBytes / MiB} MiB transfers x ${plan.rounds} rounds; work dir ${work}`,
  );
  log(
    `machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memory_gib} GiB, Node ${machine.node}, load ${machine.loadavg_at_start.join(' ')}`,
  );

  // ---- cold start and idle memory -------------------------------------------------------------
  const server = await startElizabeth('main');
  const coldStarts = [server.coldMs];
  for (let i = 1; i < plan.coldStarts; i++) {
    const extra = await startElizabeth(`cold-${i}`);
    coldStarts.push(extra.coldMs);
    await stop(extra.handle);
  }
  log(`cold start to healthy: ${coldStarts.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  await sleep(plan.idleSettleMs);
  const afterStart = memoryOf(server.pid);
  await sleep(Math.max(0, server.startedAt + plan.idleAfterStartMs - performance.now()));
  const idle = memoryOf(server.pid);
  log(
    `RSS ${fmt(afterStart?.rss / MB)} MB ${plan.idleSettleMs / 1000} s after start, idle ${fmt(idle?.rss / MB)} MB`,
  );
  row('cold_start', 'Cold start to healthy (spawn -> /api/v1/health 200)', 'ms', median(coldStarts), {
    target: { atMost: 1000 },
    note: `median of ${coldStarts.length} fresh data dirs (migrations included)`,
  });
  row(
    'rss_after_start',
    `RSS ${plan.idleSettleMs / 1000} s after start (start-up transient)`,
    'MB',
    afterStart ? afterStart.rss / MB : undefined,
  );
  row(
    'idle_rss',
    `Idle RSS (${plan.idleAfterStartMs / 1000} s after start, no request yet)`,
    'MB',
    idle ? idle.rss / MB : undefined,
    { target: { atMost: 80 } },
  );

  const base = server.base;
  const room = 'bench-room';
  const token = await enterRoom(base, room);
  const auth = { authorization: `Bearer ${token}` };

  // ---- message posting (run after the terminal client rows, or alone with --messages-only) --
  const messageRows = async () => {
    const fastify = await startBaseline('fastify', join(work, 'fastify'));
    const text = 'A benchmark message with a little **markdown** and a link https://example.com/page';
    const messagesUrl = `${base}/api/v1/rooms/bench-messages/messages`;
    const messagesToken = await enterRoom(base, 'bench-messages');
    const messagesAuth = { authorization: `Bearer ${messagesToken}` };
    const load = (url, headers, seconds) =>
      postLoad({ url, headers, connections: plan.messageConnections, durationSeconds: seconds, text });
    log(
      `message posting: ${plan.messageConnections} connections, ${plan.messageSeconds} s each (after ${plan.warmupSeconds} s warm-up)`,
    );
    await load(`${fastify.base}/messages`, {}, plan.warmupSeconds);
    const fastifyCpu = cpuMsOf(fastify.handle.child.pid);
    const bareLoad = await load(`${fastify.base}/messages`, {}, plan.messageSeconds);
    const bareCpuPerRequest = (cpuMsOf(fastify.handle.child.pid) - fastifyCpu) / bareLoad.total;
    await stop(fastify.handle);
    const page0 = await json(`${messagesUrl}?limit=1`, { headers: messagesAuth });
    const warm = await load(messagesUrl, messagesAuth, plan.warmupSeconds);
    const serverCpu = cpuMsOf(server.pid);
    const ours = await load(messagesUrl, messagesAuth, plan.messageSeconds);
    const oursCpuPerRequest = (cpuMsOf(server.pid) - serverCpu) / ours.total;
    const page1 = await json(`${messagesUrl}?limit=1`, { headers: messagesAuth });
    log(
      `  ours ${ours.requestsPerSecond.toFixed(0)} req/s (p50 ${ours.p50} ms, p99 ${ours.p99} ms); bare Fastify ${bareLoad.requestsPerSecond.toFixed(0)} req/s (p99 ${bareLoad.p99} ms)`,
    );
    for (const [name, result] of [
      ['warm-up', warm],
      ['measured', ours],
    ]) {
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        fail(
          `message posting (${name}): ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
        );
      }
    }
    const stored = page1.next_sequence_number - page0.next_sequence_number;
    const answered = warm.ok + ours.ok;
    // Requests still in flight when autocannon stops are stored but not counted: at most one per connection.
    if (stored < answered || stored > answered + 2 * plan.messageConnections) {
      fail(
        `message posting: the room's sequence advanced by ${stored}, but ${answered} posts were answered 201`,
      );
    }
    row(
      'messages_rps',
      `Post message, ${plan.messageConnections} concurrent clients (${/^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '') ? 'PostgreSQL' : 'SQLite'})`,
      'req/s',
      ours.requestsPerSecond,
      {
        baseline: bareLoad.requestsPerSecond,
        target: { ratioAtLeast: 0.1 },
        note: 'baseline: bare Fastify POST route returning JSON; QUALITY.md: ≥ 0.10 ×, 0.25 × the stretch',
      },
    );
    row('messages_cpu', 'Post message: server CPU per request (lower is better)', 'ms', oursCpuPerRequest, {
      baseline: bareCpuPerRequest,
    });
    row('messages_p50', 'Post message latency p50', 'ms', ours.p50, { baseline: bareLoad.p50 });
    row('messages_p99', 'Post message latency p99', 'ms', ours.p99, {
      baseline: bareLoad.p99,
      target: { atMost: 25 },
    });
  };
  if (args['messages-only']) {
    await messageRows();
    await stop(server.handle);
    return { machine };
  }

  // ---- transfers ------------------------------------------------------------------------------
  const size = plan.transferBytes;
  const source = join(work, 'source.bin');
  log(`writing ${size / MiB} MiB of random data`);
  const sourceSha = await writeRandomFile(source, size);
  const clientRows = () => {
    log(`terminal client: elizabeth push/pull of ${size / MiB} MiB vs curl, ${plan.rounds} round(s)`);
    return clientTransfers({
      base,
      work,
      source,
      size,
      sourceSha,
      rounds: plan.rounds,
      serverBin,
      log,
      row,
      fail,
    });
  };
  if (args['client-only']) {
    await clientRows();
    await stop(server.handle);
    return { machine };
  }
  const bare = await startBaseline('http', join(work, 'baseline-files'), source);
  const samples = { tusOurs: [], tusBase: [], mpOurs: [], mpBase: [], dlOurs: [], dlBase: [] };
  for (const key of Object.keys(samples)) samples[key.replace(/(Ours|Base)$/, 'Cpu$1')] = [];
  const peerRuns = args.peer ? await startPeers() : undefined;
  // The peak of each transfer: VmHWM read and reset (clear_refs 5) around it, so the log names the
  // transfer that set the peak; every read also goes into the overall transfers peak.
  const transferPeaks = { tus: [], mp: [], dl: [], between: [] };
  const startRss = { tus: [], mp: [], dl: [] };
  const startPeak = restartPeak(server.pid); // start-up and idle: only in the overall peak
  const rss = sampleRss(server.pid);
  for (let round = 0; round < plan.rounds; round++) {
    const oursFirst = round % 2 === 1; // alternate who goes first against cache and drift effects
    const pair = async (name, baselineFn, oursFn) => {
      // Server CPU per MiB beside the throughput: far steadier than MiB/s on a busy machine.
      const withCpu = (fn, pid, key) => async () => {
        settleWrites();
        const before = cpuMsOf(pid);
        const count = samples[key.replace('Cpu', '')].length;
        if (pid === server.pid) {
          transferPeaks.between.push(restartPeak(pid));
          startRss[name].push(memoryOf(pid)?.rss ?? 0);
        }
        await fn();
        if (pid === server.pid) transferPeaks[name].push(restartPeak(pid));
        if (samples[key.replace('Cpu', '')].length > count)
          samples[key].push((cpuMsOf(pid) - before) / (size / MiB));
      };
      const base_ = withCpu(baselineFn, bare.handle.child.pid, `${name}CpuBase`);
      const ours_ = withCpu(oursFn, server.pid, `${name}CpuOurs`);
      const order = oursFirst ? [ours_, base_] : [base_, ours_];
      for (const fn of order) await fn();
      log(
        `  round ${round + 1} ${name}: ours ${samples[`${name}Ours`].at(-1)?.toFixed(0)} MiB/s (server RSS ${fmt(startRss[name].at(-1) / MB)} MB at its start, peak ${fmt(transferPeaks[name].at(-1) / MB)} MB), baseline ${samples[`${name}Base`].at(-1)?.toFixed(0)} MiB/s`,
      );
    };
    const fileName = `bench-${round}.bin`;
    await pair(
      'tus',
      async () => {
        const { ms } = await timed(() =>
          chunkedUpload(
            { createUrl: `${bare.base}/files`, createHeaders: {}, patchHeaders: {}, tus: false },
            source,
            size,
            plan.chunkBytes,
          ),
        );
        samples.tusBase.push(throughput(size, ms));
      },
      async () => {
        const metadata = `filename ${Buffer.from(`tus-${fileName}`).toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`;
        try {
          const { ms } = await timed(() =>
            chunkedUpload(
              {
                createUrl: `${base}/api/v1/rooms/${room}/uploads`,
                createHeaders: {
                  ...auth,
                  'tus-resumable': '1.0.0',
                  'upload-length': String(size),
                  'upload-metadata': metadata,
                },
                patchHeaders: auth,
                tus: true,
              },
              source,
              size,
              plan.chunkBytes,
            ),
          );
          samples.tusOurs.push(throughput(size, ms));
        } catch (error) {
          fail(`tus upload: ${error instanceof Error ? error.message : error}`);
        }
      },
    );
    let multipartContent;
    await pair(
      'mp',
      async () => {
        const { ms } = await timed(() =>
          multipartUpload(`${bare.base}/files/mp-${round}`, { method: 'PUT' }, source, size, fileName, [201]),
        );
        samples.mpBase.push(throughput(size, ms));
      },
      async () => {
        try {
          const { ms, result } = await timed(() =>
            multipartUpload(
              `${base}/api/v1/rooms/${room}/contents`,
              { headers: auth },
              source,
              size,
              `mp-${fileName}`,
              [201],
            ),
          );
          multipartContent = result?.uploaded?.[0];
          if (multipartContent?.size !== size)
            fail(`multipart upload stored ${multipartContent?.size} bytes, sent ${size}`);
          samples.mpOurs.push(throughput(size, ms));
        } catch (error) {
          fail(`multipart upload: ${error instanceof Error ? error.message : error}`);
        }
      },
    );
    // Download both contents (the tus one and the multipart one), and the bare file twice.
    const listed = await json(`${base}/api/v1/rooms/${room}/contents?type=file`, { headers: auth });
    const items = Array.isArray(listed) ? listed : (Object.values(listed).find(Array.isArray) ?? []);
    const tusContent = items.find((item) => item.file_name === `tus-${fileName}`);
    if (!tusContent) fail(`the tus upload ${fileName} is not among the room's contents`);
    for (const content of [tusContent, multipartContent]) {
      await pair(
        'dl',
        async () => {
          const { ms, result } = await timed(() => download(`${bare.base}/download`));
          if (result.sha256 !== sourceSha) throw new Error('the baseline download has the wrong bytes');
          samples.dlBase.push(throughput(result.bytes, ms));
        },
        async () => {
          if (!content) return;
          try {
            const { ms, result } = await timed(() => download(`${base}/api/v1/contents/${content.id}`, auth));
            if (result.bytes !== size || result.sha256 !== sourceSha) {
              fail(
                `download of content ${content.id}: ${result.bytes} bytes, sha256 ${result.sha256}; expected ${size}, ${sourceSha}`,
              );
            }
            samples.dlOurs.push(throughput(result.bytes, ms));
          } catch (error) {
            fail(`download: ${error instanceof Error ? error.message : error}`);
          }
        },
      );
    }
    if (peerRuns) await peerRound(peerRuns, round, source, sourceSha, size);
    // Free the disk for the next round.
    const ids = [tusContent?.id, multipartContent?.id].filter((id) => id !== undefined);
    if (ids.length > 0)
      await json(`${base}/api/v1/rooms/${room}/contents`, { method: 'DELETE', headers: auth, body: { ids } });
    rmSync(join(work, 'baseline-files'), { recursive: true, force: true });
    mkdirSync(join(work, 'baseline-files'), { recursive: true });
  }
  const transferPeak = Math.max(rss.stop(), restartPeak(server.pid), ...Object.values(transferPeaks).flat());
  await stop(bare.handle);
  const sizeLabel = size >= 1024 * MiB ? `${size / (1024 * MiB)} GiB` : `${size / MiB} MiB`;
  const medianOrUndefined = (list) => (list.length > 0 ? median(list) : undefined);
  row(
    'upload_tus',
    `Upload ${sizeLabel} via tus (8 MiB PATCHes)`,
    'MiB/s',
    medianOrUndefined(samples.tusOurs),
    {
      baseline: medianOrUndefined(samples.tusBase),
      target: { ratioAtLeast: 0.85 },
      note: 'baseline: bare node:http appending the same 8 MiB requests to a file',
    },
  );
  row(
    'upload_multipart',
    `Upload ${sizeLabel} one-shot multipart`,
    'MiB/s',
    medianOrUndefined(samples.mpOurs),
    {
      baseline: medianOrUndefined(samples.mpBase),
      target: { ratioAtLeast: 0.85 },
      note: 'baseline: bare node:http writing the same multipart body, unparsed, to a file',
    },
  );
  row('download', `Download ${sizeLabel} (SHA-256 verified)`, 'MiB/s', medianOrUndefined(samples.dlOurs), {
    baseline: medianOrUndefined(samples.dlBase),
    target: { ratioAtLeast: 0.9 },
    note: 'baseline: bare node:http streaming the same file',
  });
  for (const [key, what] of [
    ['tus', 'tus upload'],
    ['mp', 'multipart upload'],
    ['dl', 'download'],
  ]) {
    row(
      `cpu_per_mib_${key}`,
      `Server CPU per MiB, ${what} (lower is better)`,
      'ms/MiB',
      medianOrUndefined(samples[`${key}CpuOurs`]),
      {
        baseline: medianOrUndefined(samples[`${key}CpuBase`]),
        note: 'user+system CPU of the server process / MiB moved; for reading the throughput rows on a busy machine',
      },
    );
  }
  row('peak_rss_transfers', `Server peak RSS through the ${sizeLabel} transfers`, 'MB', transferPeak / MB, {
    target: { atMost: 120 },
    note: 'max of VmRSS sampled every 50 ms and VmHWM',
  });
  const peers = await finishPeers(peerRuns, sizeLabel, samples, transferPeak);
  if (args['transfers-only']) {
    await stop(server.handle);
    return { machine, peers, samples };
  }

  // The server's peak of each later phase (VmHWM read and reset after it), for the log and the
  // overall peak below.
  const phasePeaks = [startPeak, transferPeak];
  const phasePeak = (name) => {
    phasePeaks.push(restartPeak(server.pid));
    log(`  server peak RSS during ${name}: ${fmt(phasePeaks.at(-1) / MB)} MB`);
  };

  // ---- terminal client vs curl (scripts/bench/client.mjs) ---------------------------------------
  await clientRows();
  phasePeak('the terminal client rows');

  await messageRows();
  phasePeak('the message posts');

  // ---- realtime fan-out -----------------------------------------------------------------------
  const wsUrl = `${base.replace('http:', 'ws:')}/api/v1/ws`;
  for (const { sockets, messages } of plan.fanOut) {
    const fanRoom = `bench-fanout-${sockets}`;
    const fanToken = await enterRoom(base, fanRoom);
    log(`fan-out: ${sockets} sockets, ${messages} messages`);
    const target = { atMost: sockets <= 100 ? 25 : 150 };
    try {
      const result = await fanOut({ base, wsUrl, roomName: fanRoom, token: fanToken, sockets, messages });
      log(
        `  connected in ${result.connectMs.toFixed(0)} ms; p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms; received ${result.received}/${result.expected}`,
      );
      if (result.lost > 0)
        fail(`fan-out ${sockets} sockets: ${result.lost} of ${result.expected} deliveries lost`);
      if (result.outOfOrder > 0)
        fail(`fan-out ${sockets} sockets: ${result.outOfOrder} deliveries out of order`);
      if (result.postFailures > 0) fail(`fan-out ${sockets} sockets: ${result.postFailures} posts refused`);
      row(
        `fanout_${sockets}_p50`,
        `Fan-out, 1 room, ${sockets} sockets, ${messages} messages: p50`,
        'ms',
        result.p50,
      );
      row(
        `fanout_${sockets}_p99`,
        `Fan-out, 1 room, ${sockets} sockets, ${messages} messages: p99`,
        'ms',
        result.p99,
        {
          target,
          note: `post -> receive; ${result.received}/${result.expected} delivered, ${result.lost} lost, ${result.outOfOrder} out of order`,
        },
      );
      row(`fanout_${sockets}_lost`, `Fan-out, ${sockets} sockets: deliveries lost`, 'count', result.lost, {
        target: { atMost: 0 },
      });
      row(
        `fanout_${sockets}_connect`,
        `Fan-out, ${sockets} sockets: time to connect them all (50 at a time)`,
        'ms',
        result.connectMs,
        {
          note: 'every join is announced to every socket of the room (user_joined)',
        },
      );
    } catch (error) {
      fail(`fan-out ${sockets} sockets: ${error instanceof Error ? error.message : error}`);
      errorRow(`fanout_${sockets}_p99`, `Fan-out, 1 room, ${sockets} sockets: p99`, 'ms', error, target);
    }
    await sleep(500);
    phasePeak(`the fan-out to ${sockets} sockets`);
  }
  row(
    'peak_rss_overall',
    'Server peak RSS over the whole run (incl. 1 000 sockets)',
    'MB',
    Math.max(...phasePeaks) / MB,
  );
  await stop(server.handle);

  // ---- web app first load ---------------------------------------------------------------------
  try {
    if (!existsSync(webOut)) throw new Error('apps/web/out is missing: run `npm run build`');
    const output = execFileSync(process.execPath, [
      join(root, 'apps/web/scripts/first-load-size.mjs'),
      webOut,
    ]).toString();
    const match = /([\d.]+) KB gzipped \(\+ ([\d.]+) KB inline gzipped\)/.exec(output);
    if (!match) throw new Error(`unexpected output of first-load-size.mjs: ${output}`);
    row(
      'web_first_load',
      'Home page first-load JavaScript (gzipped, incl. inline)',
      'KB',
      Number(match[1]) + Number(match[2]),
      {
        target: { atMost: 200 },
        note: 'apps/web/scripts/first-load-size.mjs; KB = 1024 bytes',
      },
    );
  } catch (error) {
    errorRow('web_first_load', 'Home page first-load JavaScript (gzipped)', 'KB', error, { atMost: 200 });
  }

  return { machine, peers, samples };
}

/**
 * The peers, installed outside this repository (docs/BENCHMARKS.md, "Peer comparison"), each
 * measured inside the transfer rounds right after ours and the baseline, so all of them see the
 * same machine. `kind` is our transfer row its upload stands beside: droppy has no tus, so it
 * gets the one-shot multipart upload; PsiTransfer gets the same tus upload (8 MiB PATCHes).
 */
const PEERS = [
  {
    id: 'droppy',
    name: 'droppy',
    kind: 'mp',
    upload: 'multipart',
    locate: locateDroppy,
    start: startDroppy,
    send: (instance, { source, size, round }) => droppyUpload(instance, source, size, `peer-${round}.bin`),
    clear: clearDroppy,
  },
  {
    id: 'psitransfer',
    name: 'PsiTransfer',
    kind: 'tus',
    upload: 'tus, 8 MiB PATCHes',
    locate: locatePsiTransfer,
    start: startPsiTransfer,
    send: (instance, { source, size, round }) =>
      psiTransferUpload(instance, source, size, plan.chunkBytes, {
        bucket: `bench-${round}`,
        name: `peer-${round}.bin`,
      }),
    clear: clearPsiTransfer,
  },
];

async function startPeers() {
  const runs = [];
  for (const peer of PEERS) {
    const run = { peer, ran: false, up: [], down: [], cpuUp: [], cpuDown: [] };
    runs.push(run);
    const located = peer.locate();
    if (!located.path) {
      run.reason = located.reason;
      log(`peer: ${located.reason}`);
      continue;
    }
    log(`peer: ${peer.name} at ${located.path}`);
    try {
      run.instance = await peer.start(located.path, join(work, peer.id));
      children.add(run.instance.handle);
      run.pid = run.instance.handle.child.pid;
      Object.assign(run, { ran: true, path: located.path, rss: sampleRss(run.pid) });
    } catch (error) {
      run.reason = error instanceof Error ? error.message : String(error);
      log(`peer: ${peer.name} could not be started: ${run.reason}`);
    }
  }
  return runs;
}

/**
 * Writes every dirty page out before a timed transfer, so each starts from the same page-cache
 * state: once the kernel's dirty threshold is crossed it throttles whichever process writes and
 * charges it the writeback. Three 2 GiB tus uploads in a row to one server cost it 5.0, 5.2 and
 * 8.0 s of CPU as dirty pages piled up (nr_dirty 0 → 2.2 GB), and which side of a pair paid was
 * chance.
 */
function settleWrites() {
  execFileSync('sync');
}

/** One round of every peer that still runs: upload, download, SHA-256 check, CPU of each. */
async function peerRound(runs, round, source, sourceSha, size) {
  for (const run of runs) {
    if (!run.ran) continue;
    const { peer, instance, pid } = run;
    try {
      settleWrites();
      let cpu = cpuMsOf(pid);
      const { ms, result: url } = await timed(() => peer.send(instance, { source, size, round }));
      run.cpuUp.push((cpuMsOf(pid) - cpu) / (size / MiB));
      run.up.push(throughput(size, ms));
      settleWrites();
      cpu = cpuMsOf(pid);
      const { ms: dlMs, result } = await timed(() => download(url));
      run.cpuDown.push((cpuMsOf(pid) - cpu) / (size / MiB));
      if (result.bytes !== size || result.sha256 !== sourceSha)
        throw new Error(`${peer.name} returned other bytes (${result.bytes} bytes)`);
      run.down.push(throughput(result.bytes, dlMs));
      peer.clear(instance);
      log(
        `  round ${round + 1} ${peer.name}: upload ${run.up.at(-1).toFixed(0)} MiB/s, download ${run.down.at(-1).toFixed(0)} MiB/s`,
      );
    } catch (error) {
      run.ran = false;
      run.reason = error instanceof Error ? error.message : String(error);
      log(`peer: ${peer.name} failed: ${run.reason}`);
    }
  }
}

/** Stops the peers and adds their rows; resolves with the `peers` field of the results file. */
async function finishPeers(runs, sizeLabel, samples, transferPeak) {
  if (!runs) return null;
  const summary = {};
  const ratio = (list, baseline) => (median(list) / median(baseline)).toFixed(2);
  for (const run of runs) {
    const { peer } = run;
    if (run.instance) {
      run.peak = Math.max(run.rss.stop(), memoryOf(run.pid)?.hwm ?? 0);
      await stop(run.instance.handle);
    }
    const id = `peer_${peer.id}`;
    if (!run.ran || run.up.length === 0) {
      const reason = run.reason ?? 'no round completed';
      errorRow(`${id}_upload`, `${peer.name}: upload ${sizeLabel}`, 'MiB/s', new Error(reason));
      summary[peer.id] = { ran: false, reason };
      continue;
    }
    const ours = samples[`${peer.kind}Ours`];
    const base = samples[`${peer.kind}Base`];
    row(`${id}_upload`, `${peer.name}: upload ${sizeLabel} (${peer.upload})`, 'MiB/s', median(run.up), {
      baseline: median(base),
      note: `ours (${peer.upload}) in the same rounds: ${median(ours).toFixed(0)} MiB/s = ${ratio(ours, base)} x`,
    });
    row(`${id}_download`, `${peer.name}: download ${sizeLabel}`, 'MiB/s', median(run.down), {
      baseline: median(samples.dlBase),
      note: `ours in the same rounds: ${median(samples.dlOurs).toFixed(0)} MiB/s = ${ratio(samples.dlOurs, samples.dlBase)} x`,
    });
    row(
      `${id}_cpu_upload`,
      `${peer.name}: CPU per MiB, ${peer.kind === 'tus' ? 'tus' : 'multipart'} upload (lower is better)`,
      'ms/MiB',
      median(run.cpuUp),
      {
        baseline: median(samples[`${peer.kind}CpuBase`]),
        note: `ours: ${median(samples[`${peer.kind}CpuOurs`]).toFixed(2)} ms/MiB`,
      },
    );
    row(
      `${id}_cpu_download`,
      `${peer.name}: CPU per MiB, download (lower is better)`,
      'ms/MiB',
      median(run.cpuDown),
      {
        baseline: median(samples.dlCpuBase),
        note: `ours: ${median(samples.dlCpuOurs).toFixed(2)} ms/MiB`,
      },
    );
    row(`${id}_peak_rss`, `${peer.name}: peak RSS through the ${sizeLabel} transfers`, 'MB', run.peak / MB, {
      note: `ours: ${(transferPeak / MB).toFixed(0)} MB`,
    });
    summary[peer.id] = {
      ran: true,
      path: run.path,
      upload: run.up,
      download: run.down,
      cpu_per_mib_upload: run.cpuUp,
      cpu_per_mib_download: run.cpuDown,
      peak_rss: run.peak,
    };
  }
  return summary;
}

const fmt = (value, digits) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : Math.abs(value) >= 100
      ? value.toFixed(0)
      : value.toFixed(digits ?? (Math.abs(value) >= 10 ? 1 : 2));

function targetText(target) {
  if (!target) return '';
  if (target.ratioAtLeast !== undefined) return `≥ ${target.ratioAtLeast} ×`;
  if (target.atMost !== undefined) return `≤ ${target.atMost}`;
  return `≥ ${target.atLeast}`;
}

function printTable() {
  const header = ['What', 'Value', 'Unit', 'Baseline', 'Ratio', 'Target', 'Result'];
  const lines = rows.map((r) => [
    r.what,
    r.unit === 'count' && r.value !== null ? String(r.value) : fmt(r.value),
    r.unit,
    fmt(r.baseline),
    r.ratio === null ? '—' : `${r.ratio.toFixed(3)} ×`,
    targetText(r.target),
    r.met === null ? (r.target ? 'n/a' : '') : r.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const print = (cells) => console.log(`| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`);
  console.log('');
  print(header);
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) print(line);
  for (const r of rows.filter((r) => r.note?.startsWith('not measured'))) console.log(`  ${r.id}: ${r.note}`);
}

/** --check: the file must read back with a number (or a reason) in every row. */
function checkResults(file) {
  const problems = [];
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(saved.rows) || saved.rows.length === 0) problems.push('no rows');
  for (const r of saved.rows ?? []) {
    if (typeof r.value !== 'number' || !Number.isFinite(r.value))
      problems.push(`${r.id}: no value (${r.note})`);
    if (r.target && r.met === null) problems.push(`${r.id}: target not evaluated`);
  }
  for (const id of [
    'cold_start',
    'rss_after_start',
    'idle_rss',
    'upload_tus',
    'upload_multipart',
    'download',
    'peak_rss_transfers',
    'messages_rps',
    'messages_p99',
    'fanout_100_p99',
    'fanout_1000_p99',
    'web_first_load',
  ]) {
    if (!saved.rows?.some((r) => r.id === id)) problems.push(`${id}: missing`);
  }
  return problems;
}

async function cleanup() {
  for (const handle of [...children]) await stopChild(handle).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().then(() => process.exit(130)));
}

let exitCode = 0;
try {
  const { machine, peers } = await main();
  printTable();
  const result = {
    generated_at: new Date().toISOString(),
    mode: plan.mode,
    plan,
    machine,
    duration_seconds: +((Date.now() - started) / 1000).toFixed(1),
    rows,
    peers,
    correctness_failures: failures,
  };
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  log(`results written to ${outFile} (${statSync(outFile).size} bytes)`);
  const missed = rows.filter((r) => r.met === false).map((r) => r.id);
  log(missed.length > 0 ? `targets missed: ${missed.join(', ')}` : 'every measured target met');
  if (args.check) {
    const problems = checkResults(outFile);
    if (problems.length > 0) {
      console.log(`--check: the harness did not produce every figure:\n  ${problems.join('\n  ')}`);
      exitCode = 1;
    } else log('--check: every figure measured and written');
  }
} catch (error) {
  console.error(error);
  failures.push(`the bench itself failed: ${error instanceof Error ? error.message : error}`);
} finally {
  await cleanup();
}
if (failures.length > 0) {
  console.log(`\n${failures.length} correctness failure(s):\n  ${failures.join('\n  ')}`);
  exitCode = 1;
}
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; exit ${exitCode}`);
process.exit(exitCode);
