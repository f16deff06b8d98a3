import { describe, expect, it } from 'vitest';

import { normalizeRoomName, randomRoomName, roomFromPathname, roomNameProblem, roomPath } from './room-name';

describe('roomNameProblem', () => {
  it.each(['abc', 'my_room', 'design-review', '项目-2026', 'Zürich2026', 'a1b', 'काम', 'x'.repeat(50)])(
    'accepts %s',
    (name) => {
      expect(roomNameProblem(normalizeRoomName(name))).toBeUndefined();
    },
  );

  it.each([
    ['', 'empty'],
    ['ab', 'too_short'],
    ['x'.repeat(51), 'too_long'],
    ['has space', 'invalid_characters'],
    ['dot.name', 'invalid_characters'],
    ['slash/name', 'invalid_characters'],
    ['emoji😀x', 'invalid_characters'],
    ['-abc', 'invalid_edges'],
    ['abc_', 'invalid_edges'],
    ['__', 'too_short'],
  ])('rejects %j as %s', (name, problem) => {
    expect(roomNameProblem(name)).toBe(problem);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(roomNameProblem('𝒜𝒜𝒜')).toBeUndefined();
    expect(roomNameProblem('𝒜'.repeat(51))).toBe('too_long');
  });

  it('allows longer private slugs when asked', () => {
    const slug = `room_${'a'.repeat(60)}`;
    expect(roomNameProblem(slug)).toBe('too_long');
    expect(roomNameProblem(slug, 100)).toBeUndefined();
  });

  it('normalises to NFC and trims', () => {
    expect(normalizeRoomName('  cafe\u0301-1 ')).toBe('café-1');
  });
});

describe('room paths', () => {
  it('reads the first segment, percent-decoded', () => {
    expect(roomFromPathname('/%E9%A1%B9%E7%9B%AE-2026')).toBe('项目-2026');
    expect(roomFromPathname('/my_room/extra/parts')).toBe('my_room');
    expect(roomFromPathname('/')).toBe('');
    expect(roomFromPathname('/%E0%A4%A')).toBe('%E0%A4%A');
  });

  it('encodes room paths', () => {
    expect(roomPath('项目-2026')).toBe('/%E9%A1%B9%E7%9B%AE-2026');
    expect(roomFromPathname(roomPath('项目-2026'))).toBe('项目-2026');
  });

  it('suggests valid names', () => {
    for (let i = 0; i < 50; i += 1) expect(roomNameProblem(randomRoomName())).toBeUndefined();
  });
});
