import { describe, expect, it } from 'vitest';

import {
  formatDuration,
  formatSize,
  parseBool,
  parseDuration,
  parseInteger,
  parseList,
  parseSize,
  unquote,
} from './parse.js';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['1024', 1024],
    [' 4096 ', 4096],
    ['50M', 50_000_000],
    ['50MB', 50_000_000],
    ['50MiB', 52_428_800],
    ['50mib', 52_428_800],
    ['50 MiB', 52_428_800],
    ['1G', 1_000_000_000],
    ['1gb', 1_000_000_000],
    ['1GiB', 1_073_741_824],
    ['1Gi', 1_073_741_824],
    ['2Mi', 2_097_152],
    ['10B', 10],
    ['2K', 2000],
    ['2KiB', 2048],
    ['1T', 1e12],
    ['1TiB', 2 ** 40],
    ['1P', 1e15],
    ['1PiB', 2 ** 50],
    ['1.5K', 1500],
    ['1.1MB', 1_100_000],
    ['.5KiB', 512],
    ['0.5 GiB', 536_870_912],
  ])('%j is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it('accepts non-negative safe integers as bytes', () => {
    expect(parseSize(52_428_800)).toBe(52_428_800);
    expect(parseSize(0)).toBe(0);
  });

  it.each([
    ['50XB', /unknown unit "XB"/],
    ['12 bits', /unknown unit "bits"/],
    ['', /empty/],
    ['   ', /empty/],
    ['-5', /not a size/],
    ['-5MB', /not a size/],
    ['MB', /not a size/],
    ['5 M B', /not a size/],
    ['1e3', /unknown unit "e"|not a size/],
    ['1.5B', /whole number of bytes/],
    ['1.0001K', /whole number of bytes/],
    ['10P', /too large/],
    ['99999999999999999999', /too large/],
  ])('rejects %j', (input, message) => {
    expect(() => parseSize(input)).toThrow(message);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('rejects the number %d', (n) => {
    expect(() => parseSize(n)).toThrow(/non-negative integer/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['0', 0],
    ['30s', 30],
    ['45sec', 45],
    ['1second', 1],
    ['2seconds', 2],
    ['30m', 1800],
    ['5min', 300],
    ['2 minutes', 120],
    ['2h', 7200],
    ['3hr', 10_800],
    ['1hour', 3600],
    ['7d', 604_800],
    ['1day', 86_400],
    ['1w', 604_800],
    ['2weeks', 1_209_600],
    ['1h 30m', 5400],
    ['1h30m', 5400],
    ['1d 2h 3m 4s', 93_784],
    ['2H', 7200],
    [' 12h ', 43_200],
    ['365d', 31_536_000],
  ])('%j is %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it('accepts non-negative integer seconds as numbers', () => {
    expect(parseDuration(3600)).toBe(3600);
  });

  it.each([
    ['abc', /unknown unit "abc"|not a duration/],
    ['', /empty/],
    ['2x', /unknown unit "x"/],
    ['1.5h', /not a duration/],
    ['-5', /negative/],
    ['-1h', /negative/],
    ['h', /not a duration/],
    ['1h and 2m', /unknown unit "and"|not a duration/],
    ['1h,30m', /not a duration/],
    ['500ms', /sub-second unit "ms"/],
    ['10ns', /sub-second unit "ns"/],
  ])('rejects %j', (input, message) => {
    expect(() => parseDuration(input)).toThrow(message);
  });

  it.each([-1, 2.5, Number.NaN])('rejects the number %d', (n) => {
    expect(() => parseDuration(n)).toThrow(/non-negative integer/);
  });
});

describe('parseBool', () => {
  it.each(['1', 'true', 'TRUE', 'Yes', 'on', ' On '])('%j is true', (v) => expect(parseBool(v)).toBe(true));
  it.each(['0', 'false', 'False', 'NO', 'off'])('%j is false', (v) => expect(parseBool(v)).toBe(false));
  it.each(['', 'maybe', '2', 'enabled', 'y'])('rejects %j', (v) =>
    expect(() => parseBool(v)).toThrow(/boolean/),
  );
  it('passes booleans through', () => {
    expect(parseBool(false)).toBe(false);
  });
});

describe('parseInteger', () => {
  it.each([
    ['42', 42],
    ['+7', 7],
    ['-3', -3],
    [' 10 ', 10],
  ])('%j is %d', (v, n) => expect(parseInteger(v)).toBe(n));
  it.each(['1e3', '0x10', '12abc', '1.5', '', '9007199254740993'])('rejects %j', (v) => {
    expect(() => parseInteger(v)).toThrow();
  });
});

describe('lists and quotes', () => {
  it.each([
    ['  "a b"  ', 'a b'],
    ["'x'", 'x'],
    ['"x\'', '"x\''],
    ['"', '"'],
    ['""', ''],
  ])('unquotes one matching pair and trims: %j is %j', (raw, unquoted) => {
    expect(unquote(raw)).toBe(unquoted);
  });

  it('splits on commas, trims, unquotes and drops empties', () => {
    expect(parseList(' GET, "POST" ,,\'PUT\', ')).toEqual(['GET', 'POST', 'PUT']);
    expect(parseList('')).toEqual([]);
    expect(parseList(',,')).toEqual([]);
  });
});

describe('formatting', () => {
  it('formats sizes in exact binary units', () => {
    expect(formatSize(52_428_800)).toBe('50 MiB');
    expect(formatSize(1000)).toBe('1000 B');
    expect(formatSize(10 * 2 ** 30)).toBe('10 GiB');
  });

  it('formats durations so that parseDuration reads them back', () => {
    for (const seconds of [0, 59, 60, 5400, 93_784, 31_536_000]) {
      expect(parseDuration(formatDuration(seconds))).toBe(seconds);
    }
    expect(formatDuration(5400)).toBe('1h 30m');
  });
});
