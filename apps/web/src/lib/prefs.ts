'use client';

import { useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark' | 'system';
export type FontSize = 'sm' | 'md' | 'lg' | 'xl';

export interface Prefs {
  theme: Theme;
  fontSize: FontSize;
  /** Enter sends (Shift+Enter = newline). Ctrl/Cmd+Enter always sends. */
  enterToSend: boolean;
  notifications: boolean;
  confirmMessageDelete: boolean;
}

const DEFAULTS: Prefs = {
  theme: 'system',
  fontSize: 'md',
  enterToSend: false,
  notifications: false,
  confirmMessageDelete: true,
};

const KEYS: Record<keyof Prefs, string> = {
  theme: 'elizabeth:theme',
  fontSize: 'elizabeth:font-size',
  enterToSend: 'elizabeth:enter-to-send',
  notifications: 'elizabeth:notifications',
  confirmMessageDelete: 'elizabeth:confirm-delete',
};

function read(): Prefs {
  if (typeof window === 'undefined') return DEFAULTS;
  const get = (key: keyof Prefs) => {
    try {
      return window.localStorage.getItem(KEYS[key]);
    } catch {
      return null;
    }
  };
  const theme = get('theme');
  const fontSize = get('fontSize');
  return {
    theme: theme === 'light' || theme === 'dark' ? theme : 'system',
    fontSize: fontSize === 'sm' || fontSize === 'lg' || fontSize === 'xl' ? fontSize : 'md',
    enterToSend: get('enterToSend') === '1',
    notifications: get('notifications') === '1',
    confirmMessageDelete: get('confirmMessageDelete') !== '0',
  };
}

let current: Prefs | undefined;
const listeners = new Set<() => void>();

function snapshot(): Prefs {
  current ??= read();
  return current;
}

export function applyTheme(theme: Theme): void {
  const dark =
    theme === 'dark' || (theme === 'system' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.classList.toggle('dark', dark);
}

export function setPref<K extends keyof Prefs>(key: K, value: Prefs[K]): void {
  current = { ...snapshot(), [key]: value };
  try {
    const raw = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    window.localStorage.setItem(KEYS[key], raw);
  } catch {
    // private mode: keep the value for this page
  }
  if (key === 'theme') applyTheme(value as Theme);
  if (key === 'fontSize') document.documentElement.setAttribute('data-font-size', String(value));
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function usePrefs(): Prefs {
  return useSyncExternalStore(subscribe, snapshot, () => DEFAULTS);
}

/** Follows OS theme changes while the preference is "system". */
export function watchSystemTheme(): () => void {
  const media = window.matchMedia('(prefers-color-scheme: dark)');
  const onChange = () => {
    if (snapshot().theme === 'system') applyTheme('system');
  };
  media.addEventListener('change', onChange);
  return () => media.removeEventListener('change', onChange);
}
