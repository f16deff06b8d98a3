/** The composer's own undo/redo: its text is React state, so the browser's native undo cannot see toolbar edits. */
export interface Snapshot {
  value: string;
  start: number;
  end: number;
}

/** Typing within this many milliseconds of the previous keystroke is undone as one step. */
const TYPING_GROUP_MS = 800;
const LIMIT = 200;

export class EditHistory {
  private past: Snapshot[] = [];
  private future: Snapshot[] = [];
  private lastTyping = -Infinity;

  /** Records the state before a change; consecutive typing is grouped into one step. */
  record(before: Snapshot, kind: 'typing' | 'edit', now = Date.now()): void {
    const grouped = kind === 'typing' && now - this.lastTyping < TYPING_GROUP_MS;
    this.lastTyping = kind === 'typing' ? now : -Infinity;
    this.future = [];
    if (grouped) return;
    this.past.push(before);
    if (this.past.length > LIMIT) this.past.shift();
  }

  undo(current: Snapshot): Snapshot | undefined {
    const previous = this.past.pop();
    if (!previous) return undefined;
    this.future.push(current);
    this.lastTyping = -Infinity;
    return previous;
  }

  redo(current: Snapshot): Snapshot | undefined {
    const next = this.future.pop();
    if (!next) return undefined;
    this.past.push(current);
    this.lastTyping = -Infinity;
    return next;
  }

  clear(): void {
    this.past = [];
    this.future = [];
    this.lastTyping = -Infinity;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}

/** Where the caret belongs after `before` became `after`: the end of their common prefix. */
export function changeOffset(before: string, after: string): number {
  const max = Math.min(before.length, after.length);
  let index = 0;
  while (index < max && before[index] === after[index]) index += 1;
  return index;
}
