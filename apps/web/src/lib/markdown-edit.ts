/** Pure text edits behind the composer's Markdown toolbar. */
export type Edit = { value: string; start: number; end: number };

/** Wraps the selection with markers (or inserts them around a placeholder). */
export function wrapSelection(
  value: string,
  start: number,
  end: number,
  before: string,
  after = before,
  placeholder = '',
): Edit {
  const selected = value.slice(start, end) || placeholder;
  const next = value.slice(0, start) + before + selected + after + value.slice(end);
  return { value: next, start: start + before.length, end: start + before.length + selected.length };
}

/** Start and end offsets of the whole lines the selection touches. */
function lineRange(value: string, start: number, end: number): [number, number] {
  const lineEndIndex = value.indexOf('\n', end);
  return [value.lastIndexOf('\n', start - 1) + 1, lineEndIndex === -1 ? value.length : lineEndIndex];
}

/** Prefixes every selected line (`- `, `> `, `1. `). */
export function prefixLines(
  value: string,
  start: number,
  end: number,
  prefix: (index: number) => string,
): Edit {
  const [lineStart, lineEnd] = lineRange(value, start, end);
  const lines = value.slice(lineStart, lineEnd).split('\n');
  const replaced = lines.map((line, index) => prefix(index) + line).join('\n');
  return {
    value: value.slice(0, lineStart) + replaced + value.slice(lineEnd),
    start: lineStart,
    end: lineStart + replaced.length,
  };
}

export function codeBlock(value: string, start: number, end: number, lang: string): Edit {
  const selected = value.slice(start, end);
  const needsLeadingBreak = start > 0 && value[start - 1] !== '\n';
  const fence = `${needsLeadingBreak ? '\n' : ''}\`\`\`${lang === 'text' ? '' : lang}\n`;
  const body = selected || '';
  const closing = `\n\`\`\`${value.slice(end).startsWith('\n') ? '' : '\n'}`;
  const next = value.slice(0, start) + fence + body + closing + value.slice(end);
  return { value: next, start: start + fence.length, end: start + fence.length + body.length };
}

/** Makes every selected line a heading of `level` (1–3), replacing any heading marker it had. */
export function headingLines(value: string, start: number, end: number, level: 1 | 2 | 3): Edit {
  const [lineStart, lineEnd] = lineRange(value, start, end);
  const marker = `${'#'.repeat(level)} `;
  const replaced = value
    .slice(lineStart, lineEnd)
    .split('\n')
    .map((line) => marker + line.replace(/^#{1,6}\s+/, ''))
    .join('\n');
  return {
    value: value.slice(0, lineStart) + replaced + value.slice(lineEnd),
    start: lineStart + marker.length,
    end: lineStart + replaced.length,
  };
}
