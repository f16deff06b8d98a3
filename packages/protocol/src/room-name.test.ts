import { describe, expect, it } from 'vitest';

import { normalizeRoomName, roomNameProblem } from './room-name.js';

/** API.md §1: the room-name rules the server and the web app share. */
describe('roomNameProblem', () => {
  it.each(['abc', 'my_room', 'design-review', '项目-2026', 'Zürich2026', 'a1b', 'काम', 'x'.repeat(50)])(
    'accepts %s',
    (name) => {
      expect(roomNameProblem(normalizeRoomName(name))).toBeUndefined();
    },
  );

  it.each([
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

  it('names the server answers itself (/api, /metrics) are reserved; other cases are not', () => {
    expect(roomNameProblem('api')).toBe('reserved');
    expect(roomNameProblem('metrics')).toBe('reserved');
    expect(roomNameProblem('API')).toBeUndefined();
    expect(roomNameProblem('api-team')).toBeUndefined();
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

  it('normalises to NFC', () => {
    expect(normalizeRoomName('cafe\u0301-1')).toBe('café-1');
  });
});
