'use client';

import * as SwitchPrimitive from '@radix-ui/react-switch';
import { clsx } from 'clsx';
import { Loader2 } from 'lucide-react';
import type { ReactNode } from 'react';

import { splitFileName } from '@/lib/format';

export function Spinner({
  size = 16,
  className,
  label,
}: {
  size?: number;
  className?: string;
  label?: string;
}) {
  return (
    <Loader2
      size={size}
      className={clsx('animate-spin text-muted', className)}
      aria-hidden={label ? undefined : true}
      aria-label={label}
      role={label ? 'status' : undefined}
    />
  );
}

export function Switch({
  id,
  checked,
  onCheckedChange,
  disabled,
  label,
  testId,
}: {
  id?: string;
  checked: boolean;
  onCheckedChange: (checked: boolean) => void;
  disabled?: boolean;
  label?: string;
  testId?: string;
}) {
  return (
    <SwitchPrimitive.Root
      id={id}
      checked={checked}
      onCheckedChange={onCheckedChange}
      disabled={disabled}
      aria-label={label}
      data-testid={testId}
      className={clsx(
        'relative inline-flex h-5 w-9 shrink-0 cursor-pointer items-center rounded-full border border-transparent transition-colors',
        'bg-border-strong data-[state=checked]:bg-accent disabled:cursor-not-allowed disabled:opacity-50',
      )}
    >
      <SwitchPrimitive.Thumb className="block h-4 w-4 translate-x-0.5 rounded-full bg-white shadow transition-transform data-[state=checked]:translate-x-[1.05rem]" />
    </SwitchPrimitive.Root>
  );
}

export function ProgressBar({
  value,
  className,
  tone = 'accent',
  label,
}: {
  value: number;
  className?: string;
  tone?: 'accent' | 'warn' | 'danger' | 'success';
  label?: string;
}) {
  const pct = Math.max(0, Math.min(100, value));
  const tones = { accent: 'bg-accent', warn: 'bg-warn', danger: 'bg-danger', success: 'bg-success' };
  return (
    <div
      className={clsx('h-1.5 w-full overflow-hidden rounded-full bg-subtle', className)}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-label={label}
    >
      <div
        className={clsx('h-full rounded-full transition-[width] duration-300', tones[tone])}
        style={{ width: `${pct}%` }}
      />
    </div>
  );
}

/**
 * A file name on one line that, when cut short, keeps its extension in view
 * (`a-very-long-na….tar.gz`). Assistive technology reads the whole name once: the split copy is
 * hidden from it (as flex items, its two parts would be read with a space between them).
 */
export function FileName({ name, className, testId }: { name: string; className?: string; testId?: string }) {
  const { stem, extension } = splitFileName(name);
  if (!extension) {
    return (
      <span className={clsx('block truncate', className)} title={name} data-testid={testId}>
        {name}
      </span>
    );
  }
  return (
    <span className={clsx('block min-w-0', className)} title={name} data-testid={testId}>
      <span className="sr-only">{name}</span>
      <span className="flex min-w-0" aria-hidden="true">
        <span className="min-w-0 truncate">{stem}</span>
        <span className="shrink-0" data-testid="file-name-extension">
          {extension}
        </span>
      </span>
    </span>
  );
}

export function Badge({
  children,
  tone = 'neutral',
  className,
}: {
  children: ReactNode;
  tone?: 'neutral' | 'accent' | 'warn' | 'danger' | 'success';
  className?: string;
}) {
  const tones = {
    neutral: 'bg-subtle text-muted border-border',
    accent: 'bg-accent-soft text-accent-text border-transparent',
    warn: 'bg-warn-soft text-warn border-transparent',
    danger: 'bg-danger-soft text-danger border-transparent',
    success: 'bg-success-soft text-success border-transparent',
  };
  return (
    <span
      className={clsx(
        'inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-[0.6875rem] font-medium',
        tones[tone],
        className,
      )}
    >
      {children}
    </span>
  );
}

export function Alert({
  tone = 'danger',
  title,
  children,
  className,
  testId,
}: {
  tone?: 'danger' | 'warn' | 'info';
  title?: ReactNode;
  children?: ReactNode;
  className?: string;
  testId?: string;
}) {
  const tones = {
    danger: 'border-danger/30 bg-danger-soft text-danger',
    warn: 'border-warn/30 bg-warn-soft text-warn',
    info: 'border-accent/25 bg-accent-soft text-accent-text',
  };
  return (
    <div
      role="alert"
      data-testid={testId}
      className={clsx('rounded-lg border px-3 py-2.5 text-sm', tones[tone], className)}
    >
      {title ? <p className="font-medium">{title}</p> : null}
      {children ? <div className={clsx(title && 'mt-0.5', 'opacity-90')}>{children}</div> : null}
    </div>
  );
}
