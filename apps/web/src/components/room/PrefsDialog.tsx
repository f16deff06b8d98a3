'use client';

import { clsx } from 'clsx';
import { useEffect, useState } from 'react';

import { useI18n } from '@/lib/i18n';
import type { Locale } from '@/lib/i18n-core';
import { setPref, usePrefs, type FontSize, type Theme } from '@/lib/prefs';

import { Dialog } from '../ui/dialog';
import { Switch } from '../ui/misc';

function Segmented<T extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
  testId: string;
}) {
  return (
    <div className="flex flex-col gap-1.5">
      <span className="text-[0.8125rem] font-medium" id={`${testId}-label`}>
        {label}
      </span>
      <div
        role="radiogroup"
        aria-labelledby={`${testId}-label`}
        className="inline-flex rounded-lg border border-border bg-subtle p-0.5"
        data-testid={testId}
      >
        {options.map((option) => (
          <button
            key={option.value}
            type="button"
            role="radio"
            aria-checked={value === option.value}
            onClick={() => onChange(option.value)}
            className={clsx(
              'flex-1 rounded-md px-2.5 py-1.5 text-[0.8125rem] font-medium transition-colors',
              value === option.value ? 'bg-surface text-fg shadow-sm' : 'text-muted hover:text-fg',
            )}
          >
            {option.label}
          </button>
        ))}
      </div>
    </div>
  );
}

function notificationState(): NotificationPermission | 'unsupported' {
  if (typeof Notification === 'undefined' || !window.isSecureContext) return 'unsupported';
  return Notification.permission;
}

export function PrefsDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const { t, locale, setLocale } = useI18n();
  const prefs = usePrefs();
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>('default');
  useEffect(() => setPermission(notificationState()), [open]);

  async function toggleNotifications(checked: boolean) {
    if (!checked) {
      setPref('notifications', false);
      return;
    }
    if (permission === 'unsupported') return;
    const result = permission === 'granted' ? 'granted' : await Notification.requestPermission();
    setPermission(result);
    setPref('notifications', result === 'granted');
  }

  const rows: {
    id: string;
    label: string;
    hint: string;
    checked: boolean;
    disabled?: boolean;
    onChange: (value: boolean) => void;
  }[] = [
    {
      id: 'pref-enter-send',
      label: t('prefs.enterToSend'),
      hint: prefs.enterToSend ? t('prefs.enterToSendOn') : t('prefs.enterToSendOff'),
      checked: prefs.enterToSend,
      onChange: (v) => setPref('enterToSend', v),
    },
    {
      id: 'pref-confirm-delete',
      label: t('prefs.confirmDelete'),
      hint: t('prefs.confirmDeleteHint'),
      checked: prefs.confirmMessageDelete,
      onChange: (v) => setPref('confirmMessageDelete', v),
    },
    {
      id: 'pref-notifications',
      label: t('prefs.notifications'),
      hint: t(`prefs.notificationState.${permission}`),
      checked: prefs.notifications && permission === 'granted',
      disabled: permission === 'unsupported' || permission === 'denied',
      onChange: (v) => void toggleNotifications(v),
    },
  ];

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={t('prefs.title')}
      description={t('prefs.description')}
      testId="prefs-dialog"
    >
      <div className="flex flex-col gap-5">
        <Segmented<Theme>
          label={t('prefs.themeLabel')}
          value={prefs.theme}
          onChange={(v) => setPref('theme', v)}
          testId="pref-theme"
          options={(['system', 'light', 'dark'] as const).map((v) => ({
            value: v,
            label: t(`prefs.theme.${v}`),
          }))}
        />
        <Segmented<FontSize>
          label={t('prefs.fontSize')}
          value={prefs.fontSize}
          onChange={(v) => setPref('fontSize', v)}
          testId="pref-font-size"
          options={(['sm', 'md', 'lg', 'xl'] as const).map((v) => ({
            value: v,
            label: t(`prefs.size.${v}`),
          }))}
        />
        <Segmented<Locale>
          label={t('prefs.language')}
          value={locale}
          onChange={setLocale}
          testId="pref-language"
          options={[
            { value: 'en', label: 'English' },
            { value: 'zh', label: '中文' },
          ]}
        />
        <div className="flex flex-col divide-y divide-border rounded-lg border border-border">
          {rows.map((row) => (
            <div key={row.id} className="flex items-center justify-between gap-4 px-3.5 py-3">
              <label htmlFor={row.id} className="min-w-0 text-sm">
                <span className="block font-medium">{row.label}</span>
                <span className="block text-xs text-muted">{row.hint}</span>
              </label>
              <Switch
                id={row.id}
                checked={row.checked}
                disabled={row.disabled ?? false}
                onCheckedChange={row.onChange}
                testId={row.id}
              />
            </div>
          ))}
        </div>
      </div>
    </Dialog>
  );
}
