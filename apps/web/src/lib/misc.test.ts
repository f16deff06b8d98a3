import { describe, expect, it } from 'vitest';

import type { ContentView } from '@elizabeth/protocol';
import { dispositionFileName } from './download';
import { codeBlock, prefixLines, wrapSelection } from './markdown-edit';
import { applyOlderPage, mergeMessages, removeMessage, EMPTY_TIMELINE } from './message-store';
import { backoffDelay, parseFrame } from './realtime';
import { contentRefId, isHttpUrl, normalizeHttpUrl, safeMessageUrl } from './safe-url';
import { remainingSeconds } from './transfers';

const message = (
  id: number,
  seq: number,
  text = `m${id}`,
  updated = '2026-11-28T10:00:00.000Z',
): ContentView => ({
  id,
  content_type: 'text',
  text,
  url: null,
  file_name: null,
  size: text.length,
  mime_type: null,
  sequence_number: seq,
  created_at: '2026-11-28T10:00:00.000Z',
  updated_at: updated,
  author_id: null,
  author_name: null,
});

describe('safe URLs in messages', () => {
  it('keeps http, https and mailto', () => {
    expect(safeMessageUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(safeMessageUrl('http://example.com')).toBe('http://example.com/');
    expect(safeMessageUrl('mailto:someone@example.com')).toBe('mailto:someone@example.com');
  });

  it('drops javascript:, data:, vbscript: and obfuscated variants', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,<script>',
      'vbscript:x',
      'file:///etc/passwd',
    ]) {
      expect(safeMessageUrl(url)).toBe('');
    }
  });

  it('keeps in-app file references and reads their id', () => {
    expect(safeMessageUrl('/contents/42')).toBe('/contents/42');
    expect(contentRefId('/contents/42')).toBe(42);
    expect(contentRefId('/contents/42/x')).toBeUndefined();
    expect(safeMessageUrl('/other/path')).toBe('');
  });

  it('validates saved links', () => {
    expect(isHttpUrl('https://example.com')).toBe(true);
    expect(isHttpUrl('ftp://example.com')).toBe(false);
    expect(normalizeHttpUrl('example.com/path')).toBe('https://example.com/path');
    expect(normalizeHttpUrl('javascript:alert(1)')).toBe('');
    expect(normalizeHttpUrl('')).toBe('');
  });
});

describe('message merging', () => {
  it('sorts by sequence number and de-duplicates by id', () => {
    const merged = mergeMessages([message(2, 2), message(1, 1)], [message(3, 3), message(2, 2)]);
    expect(merged.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  it('ignores stale updates and keeps identity when nothing changed', () => {
    const current = [message(1, 1, 'new', '2026-11-28T10:05:00.000Z')];
    expect(mergeMessages(current, [message(1, 1, 'old', '2026-11-28T10:00:00.000Z')])).toBe(current);
    const same = [message(1, 1)];
    expect(mergeMessages(same, [message(1, 1)])).toBe(same);
  });

  it('applies newer edits', () => {
    const merged = mergeMessages([message(1, 1, 'a')], [message(1, 1, 'b', '2026-11-28T10:01:00.000Z')]);
    expect(merged[0]!.text).toBe('b');
  });

  it('prepends older pages and updates the cursor', () => {
    const state = { ...EMPTY_TIMELINE, items: [message(5, 5)], cursor: 'c1', hasMore: true };
    const next = applyOlderPage(state, {
      items: [message(3, 3), message(4, 4)],
      next_cursor: null,
      has_more: false,
      next_sequence_number: 6,
    });
    expect(next.items.map((m) => m.id)).toEqual([3, 4, 5]);
    expect(next.hasMore).toBe(false);
  });

  it('removes by id', () => {
    expect(removeMessage([message(1, 1), message(2, 2)], 1).map((m) => m.id)).toEqual([2]);
  });
});

describe('composer edits', () => {
  it('wraps the selection', () => {
    expect(wrapSelection('say hi', 4, 6, '**')).toEqual({ value: 'say **hi**', start: 6, end: 8 });
    expect(wrapSelection('', 0, 0, '*', '*', 'x')).toEqual({ value: '*x*', start: 1, end: 2 });
  });

  it('prefixes selected lines', () => {
    expect(prefixLines('a\nb\nc', 0, 3, () => '- ').value).toBe('- a\n- b\nc');
    expect(prefixLines('a\nb', 0, 3, (i) => `${i + 1}. `).value).toBe('1. a\n2. b');
  });

  it('builds fenced code blocks with a language', () => {
    expect(codeBlock('x', 0, 1, 'rust').value).toBe('```rust\nx\n```\n');
    expect(codeBlock('ab', 2, 2, 'text').value).toBe('ab\n```\n\n```\n');
  });
});

describe('realtime helpers', () => {
  it('backs off exponentially with jitter, capped at 30 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
    expect(backoffDelay(20, () => 0)).toBe(15_000);
  });

  it('parses frames defensively', () => {
    expect(parseFrame('{"message_type":"pong"}')).toEqual({ message_type: 'pong' });
    expect(parseFrame('not json')).toBeUndefined();
    expect(parseFrame('{"x":1}')).toBeUndefined();
    expect(parseFrame(new ArrayBuffer(1))).toBeUndefined();
  });
});

describe('downloads and transfers', () => {
  it('reads RFC 6266 file names', () => {
    expect(dispositionFileName(`attachment; filename="a.txt"; filename*=UTF-8''%E6%96%87%E4%BB%B6.txt`)).toBe(
      '文件.txt',
    );
    expect(dispositionFileName('attachment; filename="plain.pdf"')).toBe('plain.pdf');
    expect(dispositionFileName(null)).toBeUndefined();
  });

  it('estimates remaining time', () => {
    expect(remainingSeconds({ total: 1000, loaded: 500, speed: 100 })).toBe(5);
    expect(remainingSeconds({ total: 1000, loaded: 500, speed: 0 })).toBeUndefined();
  });
});
