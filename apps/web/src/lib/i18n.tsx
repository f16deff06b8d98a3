'use client';

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useSyncExternalStore,
  type ReactNode,
} from 'react';

import en from '../../messages/en.json';
import zh from '../../messages/zh.json';
import {
  LOCALE_STORAGE_KEY,
  flatten,
  htmlLang,
  interpolate,
  isLocale,
  resolveLocale,
  type Locale,
  type Params,
} from './i18n-core';

const BUNDLES: Record<Locale, Record<string, string>> = { en: flatten(en), zh: flatten(zh) };

export type MessageKey = keyof typeof BUNDLES.en & string;
export type Translate = (key: string, params?: Params) => string;

interface I18nValue {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: Translate;
}

const I18nContext = createContext<I18nValue | null>(null);

let chosen: Locale | undefined;
const listeners = new Set<() => void>();

function clientLocale(): Locale {
  if (chosen) return chosen;
  const fromScript = document.documentElement.getAttribute('data-locale');
  if (isLocale(fromScript)) return (chosen = fromScript);
  let stored: string | null = null;
  try {
    stored = window.localStorage.getItem(LOCALE_STORAGE_KEY);
  } catch {
    stored = null;
  }
  return (chosen = resolveLocale(
    stored,
    navigator.languages?.length ? navigator.languages : [navigator.language],
  ));
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const locale = useSyncExternalStore(subscribe, clientLocale, () => 'en' as Locale);

  const setLocale = useCallback((next: Locale) => {
    chosen = next;
    try {
      window.localStorage.setItem(LOCALE_STORAGE_KEY, next);
    } catch {
      // ignore
    }
    for (const listener of listeners) listener();
  }, []);

  useEffect(() => {
    const root = document.documentElement;
    root.lang = htmlLang(locale);
    root.setAttribute('data-locale', locale);
    root.setAttribute('data-i18n-ready', '');
  }, [locale]);

  const value = useMemo<I18nValue>(() => {
    const bundle = BUNDLES[locale];
    const t: Translate = (key, params) =>
      interpolate(bundle[key] ?? BUNDLES.en[key] ?? key, params, htmlLang(locale));
    return { locale, setLocale, t };
  }, [locale, setLocale]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

export function useT(): Translate {
  return useI18n().t;
}
