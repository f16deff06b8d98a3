'use client';

import { ImageOff } from 'lucide-react';
import { useEffect, useState } from 'react';

import { getApi } from '@/lib/api-client';
import { useT } from '@/lib/i18n';

import { Spinner } from '../ui/misc';

/** Fetches content bytes with the header token and exposes them as a blob: URL (revoked on unmount). */
export function useContentBlob(
  room: string,
  id: number | undefined,
  options: { inline?: boolean; range?: string; enabled?: boolean } = {},
) {
  const [state, setState] = useState<{ url?: string; blob?: Blob; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const { inline = true, range, enabled = true } = options;
  useEffect(() => {
    if (id === undefined || !enabled) return;
    let url: string | undefined;
    const controller = new AbortController();
    setState({ loading: true });
    void (async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        try {
          const response = await getApi().content(room, id, {
            inline,
            signal: controller.signal,
            ...(range ? { range } : {}),
          });
          const blob = await response.blob();
          url = URL.createObjectURL(blob);
          setState({ url, blob, loading: false });
          return;
        } catch (error) {
          if (controller.signal.aborted) return;
          if (attempt === 2 || (error as { status?: number }).status === 404) {
            setState({ error, loading: false });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 800));
        }
      }
    })();
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [room, id, inline, range, enabled]);
  return state;
}

export function AuthImage({
  room,
  id,
  alt,
  className,
  onClick,
}: {
  room: string;
  id: number;
  alt: string;
  className?: string;
  onClick?: () => void;
}) {
  const t = useT();
  const { url, error, loading } = useContentBlob(room, id);
  if (loading) {
    return (
      <span className="inline-flex h-40 w-56 items-center justify-center rounded-lg bg-subtle">
        <Spinner />
      </span>
    );
  }
  if (error || !url) {
    return (
      <span className="inline-flex items-center gap-2 rounded-lg border border-dashed border-border px-3 py-2 text-xs text-muted">
        <ImageOff size={14} aria-hidden />
        {t('preview.imageFailed')}
      </span>
    );
  }
  const image = (
    // eslint-disable-next-line @next/next/no-img-element
    <img src={url} alt={alt} className={className} data-file-id={id} />
  );
  return onClick ? (
    <button
      type="button"
      onClick={onClick}
      className="cursor-zoom-in rounded-lg"
      aria-label={t('preview.open', { name: alt })}
    >
      {image}
    </button>
  ) : (
    image
  );
}
