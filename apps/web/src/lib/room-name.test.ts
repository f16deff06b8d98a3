import { describe, expect, it } from 'vitest';

import {
  normalizeRoomName,
  randomRoomName,
  ROOM_SLUG_MAX,
  roomFromPathname,
  roomNameProblem,
  roomPath,
} from './room-name';

// The rules themselves are tested with the protocol package (packages/protocol/src/room-name.test.ts).
describe('roomNameProblem (web)', () => {
  it('calls an empty field empty, and checks the rest with the protocol rules', () => {
    expect(roomNameProblem('')).toBe('empty');
    expect(roomNameProblem('ab')).toBe('too_short');
    expect(roomNameProblem('项目-2026')).toBeUndefined();
    expect(roomNameProblem(`room_${'a'.repeat(60)}`, ROOM_SLUG_MAX)).toBeUndefined();
    // /api and /metrics are the server's: a room there could never be opened in the browser.
    expect(roomNameProblem('api')).toBe('reserved');
    expect(roomNameProblem('metrics', ROOM_SLUG_MAX)).toBe('reserved');
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
