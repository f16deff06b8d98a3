import { describe, expect, it } from 'vitest';

import en from '../../messages/en.json';
import zh from '../../messages/zh.json';
import { flatten, htmlLang, interpolate, localeFromLanguage, placeholders, resolveLocale } from './i18n-core';

describe('message bundles', () => {
  const english = flatten(en);
  const chinese = flatten(zh);

  it('have exactly the same keys in en and zh', () => {
    expect(Object.keys(chinese).sort()).toEqual(Object.keys(english).sort());
  });

  it('use the same placeholders in both languages', () => {
    for (const [key, value] of Object.entries(english)) {
      expect(placeholders(chinese[key] ?? ''), key).toEqual(placeholders(value));
    }
  });

  it('have no empty strings except deliberate blanks', () => {
    const blanks = Object.entries(english)
      .filter(([, value]) => value === '')
      .map(([key]) => key);
    expect(blanks).toEqual(['transfers.status.active']);
  });
});

describe('locale selection', () => {
  it('maps zh* to zh and everything else to en', () => {
    expect(localeFromLanguage('zh-CN')).toBe('zh');
    expect(localeFromLanguage('zh-Hant-TW')).toBe('zh');
    expect(localeFromLanguage('ZH')).toBe('zh');
    expect(localeFromLanguage('en-US')).toBe('en');
    expect(localeFromLanguage('fr')).toBe('en');
    expect(localeFromLanguage(undefined)).toBe('en');
  });

  it('prefers the stored choice over the browser', () => {
    expect(resolveLocale('en', ['zh-CN'])).toBe('en');
    expect(resolveLocale('zh', ['en'])).toBe('zh');
    expect(resolveLocale('de', ['zh-TW'])).toBe('zh');
    expect(resolveLocale(null, [])).toBe('en');
  });

  it('sets the html lang attribute value', () => {
    expect(htmlLang('zh')).toBe('zh-CN');
    expect(htmlLang('en')).toBe('en');
  });
});

describe('interpolate', () => {
  it('fills placeholders and leaves unknown ones', () => {
    expect(interpolate('{count} of {total}', { count: 2, total: 5 })).toBe('2 of 5');
    expect(interpolate('Hi {name}', {})).toBe('Hi {name}');
    expect(interpolate('plain')).toBe('plain');
  });

  it("chooses ICU plural forms by the locale's rules", () => {
    const files = '{count, plural, =0 {no files} one {# file} other {# files}}';
    expect(interpolate(files, { count: 0 })).toBe('no files');
    expect(interpolate(files, { count: 1 })).toBe('1 file');
    expect(interpolate(files, { count: 5 })).toBe('5 files');
    expect(interpolate(files, { count: 1234 })).toBe('1,234 files');
    expect(interpolate('{count, plural, other {# 个文件}}', { count: 1 }, 'zh-CN')).toBe('1 个文件');
    expect(interpolate('{n, plural, one {# of {total}} other {# of {total}}}', { n: 2, total: 9 })).toBe(
      '2 of 9',
    );
  });
});

describe('the English bundle', () => {
  it('has no "(s)" plurals left: counts use ICU plural forms', () => {
    const english = flatten(en);
    expect(Object.entries(english).filter(([, value]) => /\(s\)/.test(value))).toEqual([]);
    expect(interpolate(english['timeline.count'] ?? '', { count: 1 }, 'en')).toBe('1 message');
    expect(interpolate(english['timeline.count'] ?? '', { count: 5 }, 'en')).toBe('5 messages');
  });

  it('reads placeholders inside plural forms', () => {
    expect(placeholders('{count, plural, one {# of {total}} other {# of {total}}} {name}')).toEqual([
      'count',
      'name',
      'total',
    ]);
  });
});
