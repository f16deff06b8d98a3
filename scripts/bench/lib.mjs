// Shared helpers of the benchmark harness: processes, ports, HTTP, memory and statistics.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A port nobody listens on right now (the OS picks it; 127.0.0.1 only). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM of a process in bytes, or undefined once it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * VmHWM of a process since its start or the last call, in bytes (0 once it is gone); resets it
 * (`/proc/<pid>/clear_refs` 5) so the next call reads the peak from here on.
 */
export function restartPeak(pid) {
  const peak = memoryOf(pid)?.hwm ?? 0;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // gone, or not ours to reset: the sampled VmRSS still counts
  }
  return Number.isNaN(peak) ? 0 : peak;
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest sample. */
export function sampleRss(pid, everyMs = 50) {
  let peak = 0;
  const timer = setInterval(() => {
    const memory = memoryOf(pid);
    if (memory && memory.rss > peak) peak = memory.rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const memory = memoryOf(pid);
      if (memory && memory.rss > peak) peak = memory.rss;
      return peak;
    },
  };
}

/**
 * Spawns a Node process whose stdout and stderr go to `logFile` (a file, never a pipe the bench
 * would have to drain). Resolves nothing; use `waitForHttp` for readiness.
 */
export function spawnNode(args, { env = {}, cwd, logFile }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

/** Stops a child with SIGTERM (SIGKILL after `graceMs`) and waits for it. */
export async function stopChild(handle, graceMs = 5_000) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  handle.child.kill('SIGTERM');
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  await handle.exited;
  clearTimeout(timer);
}

/** One HTTP request; resolves with status, headers and the body as a Buffer. */
export function request(url, { method = 'GET', headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

/** `request` with a JSON body; resolves with the parsed answer and fails on an unexpected status. */
export async function json(url, { method = 'GET', headers = {}, body, expect = [200, 201] } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await request(url, {
    method,
    headers:
      payload === undefined
        ? headers
        : {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(payload)),
            ...headers,
          },
    body: payload,
  });
  if (!expect.includes(res.status)) {
    throw new Error(`${method} ${url} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
  return res.body.length > 0 ? JSON.parse(res.body.toString('utf8')) : undefined;
}

/** Polls `url` every 5 ms until it answers 200 or `timeoutMs` passes; also fails if `exited` settles. */
export async function waitForHttp(url, { timeoutMs = 30_000, exited } = {}) {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  exited?.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`the process exited before ${url} answered`);
    try {
      const res = await request(url, { headers: { connection: 'close' } });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Writes `size` random bytes to `path`; resolves with their SHA-256 (hex). */
export async function writeRandomFile(path, size) {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const { randomFillSync } = await import('node:crypto');
  const block = Buffer.alloc(4 * MiB);
  for (let written = 0; written < size;) {
    const length = Math.min(block.length, size - written);
    const chunk = Buffer.from(randomFillSync(block).subarray(0, length));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    written += length;
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

/** The `p`-th percentile (0–100) of numbers, nearest-rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => percentile(values, 50);

/** Runs `fn` for its time in milliseconds (and its result). */
export async function timed(fn) {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

/** CPU time (user + system) a process has used so far, in ms (from /proc/<pid>/stat, 100 Hz ticks). */
export function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
