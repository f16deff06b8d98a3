'use client';

import { Check, Copy } from 'lucide-react';
import { useEffect, useState } from 'react';

import { CODE_LANGUAGES, highlight, normalizeLanguage } from '@/lib/highlight';
import { useT } from '@/lib/i18n';

import { useRoom } from './room-context';

export function CodeBlock({
  code,
  lang,
  maxHeight,
}: {
  code: string;
  lang: string | undefined;
  maxHeight?: string;
}) {
  const t = useT();
  const { copy } = useRoom();
  const [html, setHtml] = useState<string | undefined>(undefined);
  const [copied, setCopied] = useState(false);
  const normalized = normalizeLanguage(lang);

  useEffect(() => {
    let cancelled = false;
    setHtml(undefined);
    void highlight(code, lang)
      .then((value) => {
        if (!cancelled) setHtml(value);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [code, lang]);

  const label =
    CODE_LANGUAGES.find(([value]) => value === (normalized ?? lang))?.[1] ?? lang ?? t('composer.plainText');
  return (
    <div
      className="code-block group/code my-2 overflow-hidden rounded-lg border border-border bg-subtle"
      data-testid="code-block"
      data-language={normalized ?? lang ?? 'text'}
    >
      <div className="flex items-center justify-between border-b border-border px-3 py-1 text-[0.6875rem] text-muted">
        <span className="font-medium">{label}</span>
        <button
          type="button"
          className="flex items-center gap-1 rounded px-1.5 py-0.5 hover:bg-hover hover:text-fg"
          onClick={() => {
            void copy(code, t('message.codeCopied')).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            });
          }}
          aria-label={t('message.copyCode')}
        >
          {copied ? <Check size={12} aria-hidden /> : <Copy size={12} aria-hidden />}
          {copied ? t('common.copied') : t('common.copy')}
        </button>
      </div>
      <pre style={maxHeight ? { maxHeight } : undefined}>
        {html !== undefined ? (
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        ) : (
          <code>{code}</code>
        )}
      </pre>
    </div>
  );
}
