'use client';

import { useT } from '@/lib/i18n';

import { Logo } from './Chrome';

export function NotFoundView() {
  const t = useT();
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-4 p-6 text-center">
      <Logo />
      <h1 className="text-xl font-semibold">{t('notFound.title')}</h1>
      <p className="max-w-sm text-sm text-muted">{t('notFound.body')}</p>
      <a href="/" className="text-sm font-medium text-accent-text underline underline-offset-4">
        {t('notFound.home')}
      </a>
    </main>
  );
}
