'use client';

import { clsx } from 'clsx';
import { AlertCircle, CheckCircle2, Info, X } from 'lucide-react';
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

import { useT } from '@/lib/i18n';

type Tone = 'info' | 'success' | 'error';

interface ToastItem {
  id: number;
  tone: Tone;
  title: string;
  description?: string | undefined;
}

interface ToastApi {
  show: (tone: Tone, title: string, description?: string) => void;
  success: (title: string, description?: string) => void;
  error: (title: string, description?: string) => void;
  info: (title: string, description?: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const t = useT();
  const [items, setItems] = useState<ToastItem[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => setItems((list) => list.filter((item) => item.id !== id)), []);

  const show = useCallback(
    (tone: Tone, title: string, description?: string) => {
      const id = nextId.current++;
      // The same notice again replaces the one on screen (and restarts its time) instead of stacking.
      setItems((list) => [
        ...list
          .filter((item) => item.tone !== tone || item.title !== title || item.description !== description)
          .slice(-2),
        { id, tone, title, description },
      ]);
      setTimeout(() => dismiss(id), tone === 'error' ? 7000 : 4000);
    },
    [dismiss],
  );

  const api = useMemo<ToastApi>(
    () => ({
      show,
      success: (title, description) => show('success', title, description),
      error: (title, description) => show('error', title, description),
      info: (title, description) => show('info', title, description),
    }),
    [show],
  );

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div
        // Top centre, below a room's top bar: clear of the Send, Upload and selection buttons that
        // sit at the bottom and right edges.
        className="pointer-events-none fixed inset-x-0 top-15 z-[60] flex flex-col items-center gap-2 px-3"
        aria-live="polite"
        role="region"
        aria-label={t('common.notifications')}
        data-testid="toasts"
      >
        {items.map((item) => {
          const Icon = item.tone === 'success' ? CheckCircle2 : item.tone === 'error' ? AlertCircle : Info;
          return (
            <div
              key={item.id}
              role={item.tone === 'error' ? 'alert' : 'status'}
              data-testid="toast"
              className="pointer-events-auto flex w-full max-w-sm items-start gap-2.5 rounded-xl border border-border bg-surface px-3.5 py-3 text-sm shadow-card"
            >
              <Icon
                size={18}
                aria-hidden
                className={clsx(
                  'mt-px shrink-0',
                  item.tone === 'success' && 'text-success',
                  item.tone === 'error' && 'text-danger',
                  item.tone === 'info' && 'text-accent-text',
                )}
              />
              <div className="min-w-0 flex-1">
                <p className="font-medium break-words">{item.title}</p>
                {item.description ? (
                  <p className="mt-0.5 text-muted break-words">{item.description}</p>
                ) : null}
              </div>
              <button
                type="button"
                onClick={() => dismiss(item.id)}
                className="-m-1 rounded p-1 text-faint hover:text-fg"
                aria-label={t('common.dismiss')}
              >
                <X size={14} aria-hidden />
              </button>
            </div>
          );
        })}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const value = useContext(ToastContext);
  if (!value) throw new Error('useToast outside ToastProvider');
  return value;
}
