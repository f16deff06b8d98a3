'use client';

import type { ReactNode } from 'react';

import { useT } from '@/lib/i18n';

import { Button } from './button';
import { Dialog } from './dialog';
import { Spinner } from './misc';

/** "Delete …?" alert dialog with Cancel and a destructive Delete; it cannot be dismissed while busy. */
export function ConfirmDeleteDialog({
  open,
  onOpenChange,
  title,
  description,
  busy,
  onConfirm,
  testId,
  confirmTestId,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description: ReactNode;
  busy: boolean;
  onConfirm: () => void;
  testId: string;
  confirmTestId: string;
}) {
  const t = useT();
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => !busy && onOpenChange(next)}
      title={title}
      description={description}
      size="sm"
      role="alertdialog"
      dismissible={!busy}
      testId={testId}
      footer={
        <>
          <Button onClick={() => onOpenChange(false)} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={busy} data-testid={confirmTestId}>
            {busy ? <Spinner size={13} className="text-current" /> : null}
            {busy ? t('common.deleting') : t('common.delete')}
          </Button>
        </>
      }
    />
  );
}
