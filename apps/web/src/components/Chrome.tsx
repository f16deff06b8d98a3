'use client';

import { Languages, Monitor, Moon, Sun } from 'lucide-react';

import { useI18n } from '@/lib/i18n';
import type { Locale } from '@/lib/i18n-core';
import { setPref, usePrefs, type Theme } from '@/lib/prefs';

import { Button, IconButton } from './ui/button';

export function Logo({ compact }: { compact?: boolean }) {
  return (
    <span className="flex items-center gap-2">
      <span
        aria-hidden
        className="flex h-7 w-7 items-center justify-center rounded-lg bg-accent text-[0.8125rem] font-bold text-accent-fg shadow-sm"
      >
        E
      </span>
      {compact ? null : <span className="text-[0.9375rem] font-semibold tracking-tight">Elizabeth</span>}
    </span>
  );
}

const NEXT_THEME: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };

export function ThemeButton() {
  const { t } = useI18n();
  const { theme } = usePrefs();
  const Icon = theme === 'dark' ? Moon : theme === 'light' ? Sun : Monitor;
  const label = t('prefs.themeButton', { theme: t(`prefs.theme.${theme}`) });
  return (
    <IconButton label={label} onClick={() => setPref('theme', NEXT_THEME[theme])} data-testid="theme-toggle">
      <Icon size={17} aria-hidden />
    </IconButton>
  );
}

/** A light two-way switch (no menu library on the home page: it counts toward first-load JS). */
export function LanguageMenu() {
  const { t, locale, setLocale } = useI18n();
  const next: Locale = locale === 'zh' ? 'en' : 'zh';
  return (
    <Button
      variant="ghost"
      size="sm"
      onClick={() => setLocale(next)}
      // The visible language name is the accessible name (WCAG 2.5.3); the title explains it.
      title={t('prefs.switchLanguage')}
      data-testid="language-toggle"
    >
      <Languages size={16} aria-hidden />
      <span lang={next === 'zh' ? 'zh-CN' : 'en'}>{next === 'zh' ? '中文' : 'English'}</span>
    </Button>
  );
}
