/**
 * Vitest global setup: the suite fails when a process a test started outlives the run (a
 * server, a Redis, a browser…), and such processes are killed. A process counts as the run's
 * when it started during the run and either inherited the run's marker from the environment
 * (`ELIZABETH_TEST_RUN`, set here and passed on by every spawn that keeps `process.env`) or
 * runs this checkout's server (`bin/elizabeth.js`, `src/index.ts`, a `test/` script), whatever
 * environment it was given. Linux only (/proc); elsewhere it checks nothing.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const SERVER_SCRIPT = /(bin\/elizabeth\.js|src\/index\.ts|\/test\/\S+\.ts)/;

const read = (path: string) => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
};

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

function ancestors(): Set<number> {
  const chain = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    pid = Number(/^PPid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`))?.[1] ?? 0);
  }
  return chain;
}

function cwdOf(pid: number): string {
  try {
    return `${readlinkSync(`/proc/${pid}/cwd`)}/`;
  } catch {
    return '';
  }
}

function isOurs(pid: number, marker: string): boolean {
  const cmdline = read(`/proc/${pid}/cmdline`).split('\0').join(' ');
  // Vitest's own workers; Chromium's crash reporter, which detaches itself and ends on its own
  // once the browser has gone.
  if (cmdline === '' || /node_modules\/(vitest|tinypool)|chrome_crashpad_handler/.test(cmdline)) return false;
  if (read(`/proc/${pid}/environ`).split('\0').includes(marker)) return true;
  return SERVER_SCRIPT.test(cmdline) && (cmdline.includes(repoRoot) || cwdOf(pid).startsWith(repoRoot));
}

export default function setup(): (() => void) | undefined {
  if (!existsSync('/proc/self/environ')) return undefined;
  const id = randomUUID();
  process.env.ELIZABETH_TEST_RUN = id;
  const marker = `ELIZABETH_TEST_RUN=${id}`;
  const before = new Set(pids());
  return () => {
    const mine = ancestors();
    const left = pids().filter((pid) => !before.has(pid) && !mine.has(pid) && isOurs(pid, marker));
    if (left.length === 0) return;
    const described = left.map(
      (pid) => `${pid}: ${read(`/proc/${pid}/cmdline`).split('\0').join(' ').trim()}`,
    );
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Vitest reports an error thrown here but still exits 0: set the status too.
    process.exitCode = 1;
    throw new Error(`Processes started by the tests outlived them (now killed):\n${described.join('\n')}`);
  };
}
