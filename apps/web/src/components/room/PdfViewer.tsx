'use client';

import { ChevronLeft, ChevronRight, ZoomIn, ZoomOut } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';

import { useT } from '@/lib/i18n';

import { IconButton } from '../ui/button';
import { Alert, Spinner } from '../ui/misc';

type PdfModule = typeof import('pdfjs-dist');
type PdfDocument = Awaited<ReturnType<PdfModule['getDocument']>['promise']>;

let pdfjs: Promise<PdfModule> | undefined;

function loadPdfJs(): Promise<PdfModule> {
  pdfjs ??= import('pdfjs-dist').then((module) => {
    // The worker is shipped with the app (copied to /dist/pdf.worker.min.mjs at build time): no CDN.
    module.GlobalWorkerOptions.workerSrc = '/dist/pdf.worker.min.mjs';
    return module;
  });
  return pdfjs;
}

/** pdf.js, loaded only when a PDF is opened. Renders one page at a time on a canvas. */
export function PdfViewer({ blob }: { blob: Blob }) {
  const t = useT();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [doc, setDoc] = useState<PdfDocument | null>(null);
  const [page, setPage] = useState(1);
  const [scale, setScale] = useState(1.2);
  const [error, setError] = useState(false);

  useEffect(() => {
    let cancelled = false;
    let loaded: PdfDocument | undefined;
    void (async () => {
      try {
        const lib = await loadPdfJs();
        const data = new Uint8Array(await blob.arrayBuffer());
        loaded = await lib.getDocument({ data, isEvalSupported: false }).promise;
        if (!cancelled) setDoc(loaded);
      } catch {
        if (!cancelled) setError(true);
      }
    })();
    return () => {
      cancelled = true;
      void loaded?.destroy();
    };
  }, [blob]);

  useEffect(() => {
    if (!doc || !canvas.current) return;
    let task: { cancel: () => void; promise: Promise<void> } | undefined;
    let cancelled = false;
    void doc.getPage(page).then((pdfPage) => {
      if (cancelled || !canvas.current) return;
      const ratio = window.devicePixelRatio || 1;
      const viewport = pdfPage.getViewport({ scale: scale * ratio });
      const element = canvas.current;
      element.width = viewport.width;
      element.height = viewport.height;
      element.style.width = `${viewport.width / ratio}px`;
      element.style.height = `${viewport.height / ratio}px`;
      task = pdfPage.render({ canvas: element, viewport });
      task.promise.catch(() => undefined);
    });
    return () => {
      cancelled = true;
      task?.cancel();
    };
  }, [doc, page, scale]);

  if (error) return <Alert>{t('preview.pdfFailed')}</Alert>;
  if (!doc) {
    return (
      <div className="flex h-full items-center justify-center gap-2 text-sm text-muted">
        <Spinner />
        {t('preview.loading')}
      </div>
    );
  }
  return (
    <div className="flex h-full flex-col" data-testid="preview-pdf">
      <div className="flex items-center justify-center gap-1 pb-2 text-xs text-muted">
        <IconButton
          size="icon-sm"
          label={t('preview.previousPage')}
          disabled={page <= 1}
          onClick={() => setPage((p) => p - 1)}
        >
          <ChevronLeft size={15} aria-hidden />
        </IconButton>
        <span className="tabular-nums" aria-live="polite">
          {t('preview.page', { page, total: doc.numPages })}
        </span>
        <IconButton
          size="icon-sm"
          label={t('preview.nextPage')}
          disabled={page >= doc.numPages}
          onClick={() => setPage((p) => p + 1)}
        >
          <ChevronRight size={15} aria-hidden />
        </IconButton>
        <span aria-hidden className="mx-2 h-4 w-px bg-border" />
        <IconButton
          size="icon-sm"
          label={t('preview.zoomOut')}
          onClick={() => setScale((s) => Math.max(0.5, s - 0.2))}
        >
          <ZoomOut size={15} aria-hidden />
        </IconButton>
        <span className="w-10 text-center tabular-nums">{Math.round(scale * 100)}%</span>
        <IconButton
          size="icon-sm"
          label={t('preview.zoomIn')}
          onClick={() => setScale((s) => Math.min(3, s + 0.2))}
        >
          <ZoomIn size={15} aria-hidden />
        </IconButton>
      </div>
      <div className="min-h-0 flex-1 overflow-auto rounded-lg bg-subtle p-3">
        <canvas
          ref={canvas}
          className="mx-auto bg-white shadow-card"
          aria-label={t('preview.page', { page, total: doc.numPages })}
        />
      </div>
    </div>
  );
}
