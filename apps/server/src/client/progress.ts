/**
 * Progress of several transfers: on a TTY one bar per file plus a total (speed, ETA), redrawn
 * at most 10 times a second in place; otherwise nothing until a file ends (the commands print
 * one plain line per finished file). A small renderer of our own: the bars need several lines
 * at once and the widths of CJK names, which single-bar libraries do not do.
 */
import { formatBytes } from './i18n.js';

interface Task {
  label: string;
  total: number;
  done: number;
  finished: boolean;
}

const BAR = 24;

export class Progress {
  private readonly tasks: Task[] = [];
  private lines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private startDone = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean,
    private readonly totalLabel: string,
  ) {}

  add(label: string, total: number, done = 0): Task {
    const task = { label, total, done, finished: false };
    this.tasks.push(task);
    this.startDone += done;
    if (this.enabled && !this.timer) {
      this.timer = setInterval(() => this.render(), 100);
      this.timer.unref();
    }
    return task;
  }

  update(task: Task, done: number): void {
    task.done = done;
  }

  /** Prints a line above the bars (a finished file, a warning). */
  log(line: string, stream: NodeJS.WriteStream = this.out): void {
    if (this.enabled) this.clear();
    stream.write(`${line}\n`);
    if (this.enabled) this.render();
  }

  finish(task: Task): void {
    task.done = task.total;
    task.finished = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.enabled) {
      this.render();
      this.lines = 0;
    }
  }

  private clear(): void {
    if (this.lines > 0) this.out.write(`\x1b[${this.lines}F\x1b[J`);
    this.lines = 0;
  }

  private render(): void {
    this.clear();
    const width = Math.max(40, this.out.columns ?? 80);
    const visible = this.tasks.filter((t) => !t.finished);
    const rows = visible.map((t) => row(t.label, t.done, t.total, undefined, width));
    if (this.tasks.length > 1 || rows.length === 0) {
      const done = this.tasks.reduce((sum, t) => sum + t.done, 0);
      const total = this.tasks.reduce((sum, t) => sum + t.total, 0);
      const seconds = (Date.now() - this.started) / 1000;
      const speed = seconds > 0 ? (done - this.startDone) / seconds : 0;
      rows.push(row(this.totalLabel, done, total, speed, width));
    } else if (visible.length === 1) {
      const t = visible[0]!;
      const seconds = (Date.now() - this.started) / 1000;
      const speed = seconds > 0 ? (t.done - this.startDone) / seconds : 0;
      rows[0] = row(t.label, t.done, t.total, speed, width);
    }
    this.out.write(`${rows.join('\n')}\n`);
    this.lines = rows.length;
  }
}

function row(label: string, done: number, total: number, speed: number | undefined, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * BAR);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
  let tail = `${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)}`;
  if (speed !== undefined && speed > 0) {
    const eta = Math.max(0, (total - done) / speed);
    tail += ` ${formatBytes(speed)}/s ETA ${formatEta(eta)}`;
  }
  const room = Math.max(8, width - tail.length - BAR - 4);
  return `${fit(label, room)} ${bar} ${tail}`;
}

function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Cuts or pads a label to `columns` terminal cells (CJK and other wide characters take two). */
function fit(label: string, columns: number): string {
  let out = '';
  let used = 0;
  for (const ch of label) {
    const w = cellWidth(ch);
    if (used + w > columns - 1 && [...label].length > 0 && used + w > columns) break;
    out += ch;
    used += w;
  }
  if (out !== label) {
    while (used > columns - 1) {
      const last = [...out].pop() ?? '';
      out = out.slice(0, out.length - last.length);
      used -= cellWidth(last);
    }
    out += '…';
    used += 1;
  }
  return out + ' '.repeat(Math.max(0, columns - used));
}

function cellWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  return (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
    ? 2
    : 1;
}
