import { describe, expect, it } from 'vitest';

import {
  closestAge,
  formatAge,
  formatBytes,
  splitFileName,
  formatDuration,
  formatSpeed,
  parseTimestamp,
  splitAge,
} from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [50 * 1024 * 1024, '50.0 MB'],
    [150 * 1024 * 1024, '150 MB'],
    [3.25 * 1024 ** 3, '3.3 GB'],
    [2 * 1024 ** 4, '2.0 TB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('handles bad input', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });

  it('formats speeds', () => {
    expect(formatSpeed(2048)).toBe('2.0 KB/s');
    expect(formatSpeed(0)).toBe('—');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59.9, '59s'],
    [61, '1m 01s'],
    [3599, '59m 59s'],
    [3600, '1h 00m'],
    [7260, '2h 01m'],
    [90000, '1d 1h'],
  ])('%d → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([
    [45, '45秒'],
    [185, '3分钟5秒'],
    [23 * 3600 + 54 * 60, '23小时54分钟'],
    [90000, '1天1小时'],
  ])('%d → %s in Chinese (no Latin units)', (seconds, text) => {
    expect(formatDuration(seconds, 'zh-CN')).toBe(text);
  });
});

describe('ages', () => {
  it('picks the largest exact unit', () => {
    expect(splitAge(60)).toEqual({ value: 1, unit: 'minute' });
    expect(splitAge(1800)).toEqual({ value: 30, unit: 'minute' });
    expect(splitAge(7200)).toEqual({ value: 2, unit: 'hour' });
    expect(splitAge(604800)).toEqual({ value: 7, unit: 'day' });
    expect(splitAge(31536000)).toEqual({ value: 1, unit: 'year' });
    expect(splitAge(45)).toEqual({ value: 45, unit: 'second' });
  });

  it('formats in the locale', () => {
    expect(formatAge(7200, 'en')).toBe('2 hours');
    expect(formatAge(86400, 'en')).toBe('1 day');
  });

  it('finds the closest allowed age', () => {
    expect(closestAge([60, 1800, 7200, 86400], 6000)).toBe(7200);
    expect(closestAge([60, 1800, 7200], 0)).toBe(60);
    expect(closestAge([], 100)).toBeUndefined();
  });
});

describe('parseTimestamp', () => {
  it('reads RFC 3339 with Z and offsets', () => {
    expect(parseTimestamp('2026-11-28T10:00:00.000Z')).toBe(Date.UTC(2026, 10, 28, 10));
    expect(parseTimestamp('2026-11-28T12:00:00+02:00')).toBe(Date.UTC(2026, 10, 28, 10));
  });

  it('treats a timestamp without zone as UTC', () => {
    expect(parseTimestamp('2026-11-28T10:00:00')).toBe(Date.UTC(2026, 10, 28, 10));
  });

  it('returns NaN for missing values', () => {
    expect(parseTimestamp(undefined)).toBeNaN();
    expect(parseTimestamp('nope')).toBeNaN();
  });
});

describe('splitFileName', () => {
  it('keeps the extension apart from what may be cut short', () => {
    expect(splitFileName('report-final.pdf')).toEqual({ stem: 'report-final', extension: '.pdf' });
    expect(splitFileName('photo.2024.JPEG')).toEqual({ stem: 'photo.2024', extension: '.JPEG' });
    expect(splitFileName('backup.tar.gz')).toEqual({ stem: 'backup', extension: '.tar.gz' });
    expect(splitFileName('logs.TAR.ZST')).toEqual({ stem: 'logs', extension: '.TAR.ZST' });
  });

  it('leaves names without an extension whole', () => {
    expect(splitFileName('README')).toEqual({ stem: 'README', extension: '' });
    expect(splitFileName('.env')).toEqual({ stem: '.env', extension: '' });
    expect(splitFileName('.tar.gz')).toEqual({ stem: '.tar.gz', extension: '' });
    expect(splitFileName('notes.')).toEqual({ stem: 'notes.', extension: '' });
    expect(splitFileName('v1.0 final draft')).toEqual({ stem: 'v1.0 final draft', extension: '' });
    expect(splitFileName('archive.verylongextension')).toEqual({
      stem: 'archive.verylongextension',
      extension: '',
    });
    expect(splitFileName('名前.文書')).toEqual({ stem: '名前.文書', extension: '' });
  });
});
