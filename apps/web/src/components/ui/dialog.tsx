'use client';

import * as DialogPrimitive from '@radix-ui/react-dialog';
import { clsx } from 'clsx';
import { X } from 'lucide-react';
import type { ReactNode } from 'react';

import { useT } from '@/lib/i18n';

export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  children,
  footer,
  size = 'md',
  testId,
  dismissible = true,
  hideClose,
  className,
  role,
  scrollFocusable,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  size?: 'sm' | 'md' | 'lg' | 'xl' | 'full';
  testId?: string;
  dismissible?: boolean;
  hideClose?: boolean;
  className?: string;
  role?: 'dialog' | 'alertdialog';
  /** A body with text only: keyboard users can focus it to scroll it. */
  scrollFocusable?: boolean;
}) {
  const t = useT();
  const widths = {
    sm: 'sm:max-w-sm',
    md: 'sm:max-w-md',
    lg: 'sm:max-w-xl',
    xl: 'sm:max-w-4xl',
    full: 'sm:max-w-[min(96vw,1200px)]',
  };
  return (
    <DialogPrimitive.Root
      open={open}
      onOpenChange={(next) => (dismissible || next ? onOpenChange(next) : undefined)}
    >
      <DialogPrimitive.Portal>
        <DialogPrimitive.Overlay className="fixed inset-0 z-40 bg-black/40 backdrop-blur-[2px] data-[state=open]:animate-[eliz-fade_120ms_ease-out]" />
        <DialogPrimitive.Content
          data-testid={testId}
          role={role ?? 'dialog'}
          onEscapeKeyDown={(event) => (dismissible ? undefined : event.preventDefault())}
          onPointerDownOutside={(event) => (dismissible ? undefined : event.preventDefault())}
          onInteractOutside={(event) => (dismissible ? undefined : event.preventDefault())}
          className={clsx(
            'fixed z-50 flex flex-col border border-border bg-surface text-fg shadow-card focus:outline-none',
            'inset-x-0 bottom-0 max-h-[92dvh] rounded-t-2xl sm:inset-auto sm:top-1/2 sm:left-1/2 sm:w-[calc(100vw-2rem)] sm:-translate-x-1/2 sm:-translate-y-1/2 sm:rounded-xl',
            size === 'full' ? 'sm:h-[90dvh] sm:max-h-[90dvh]' : 'sm:max-h-[85dvh]',
            widths[size],
            className,
          )}
        >
          <div className="flex items-start gap-3 px-5 pt-4 pb-3">
            <div className="min-w-0 flex-1">
              <DialogPrimitive.Title className="text-[0.9375rem] font-semibold break-words">
                {title}
              </DialogPrimitive.Title>
              {description ? (
                <DialogPrimitive.Description className="mt-1 text-sm text-muted">
                  {description}
                </DialogPrimitive.Description>
              ) : (
                <DialogPrimitive.Description className="sr-only">
                  {typeof title === 'string' ? title : ''}
                </DialogPrimitive.Description>
              )}
            </div>
            {hideClose || !dismissible ? null : (
              <DialogPrimitive.Close
                className="-mt-1 -mr-2 rounded-md p-1.5 text-faint hover:bg-hover hover:text-fg"
                aria-label={t('common.close')}
                title={t('common.close')}
              >
                <X size={16} aria-hidden />
              </DialogPrimitive.Close>
            )}
          </div>
          <div
            className="min-h-0 flex-1 overflow-y-auto px-5 pb-4"
            tabIndex={scrollFocusable ? 0 : undefined}
          >
            {children}
          </div>
          {footer ? (
            <div className="flex flex-wrap items-center justify-end gap-2 border-t border-border px-5 py-3">
              {footer}
            </div>
          ) : null}
        </DialogPrimitive.Content>
      </DialogPrimitive.Portal>
    </DialogPrimitive.Root>
  );
}
