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

/** Prefixes every selected line (`- `, `> `, `1. `). */
export function prefixLines(
  value: string,
  start: number,
  end: number,
  prefix: (index: number) => string,
): Edit {
  const lineStart = value.lastIndexOf('\n', start - 1) + 1;
  const lineEndIndex = value.indexOf('\n', end);
  const lineEnd = lineEndIndex === -1 ? value.length : lineEndIndex;
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
