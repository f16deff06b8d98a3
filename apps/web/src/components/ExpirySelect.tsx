'use client';

import { formatAge } from '@/lib/format';
import { useI18n } from '@/lib/i18n';

import { selectClass } from './ui/input';

/** A room lifetime picker over the ages `/api/v1/config` allows (home page and room settings). */
export function ExpirySelect({
  id,
  ages,
  value,
  onChange,
  testId,
}: {
  id: string;
  ages: readonly number[];
  value: number | '';
  onChange: (seconds: number) => void;
  testId: string;
}) {
  const { locale } = useI18n();
  return (
    <select
      id={id}
      className={selectClass}
      value={value}
      onChange={(e) => onChange(Number(e.target.value))}
      data-testid={testId}
    >
      {ages.map((seconds) => (
        <option key={seconds} value={seconds}>
          {formatAge(seconds, locale)}
        </option>
      ))}
    </select>
  );
}
