'use client';

import { useEffect } from 'react';

import { useT } from '@/lib/i18n';

import { Dialog } from '../ui/dialog';

/** Every keyboard shortcut of a room, as key combinations and the message key that describes it. */
const SHORTCUTS: { keys: string[][]; action: string }[] = [
  { keys: [['Ctrl/⌘', 'Enter']], action: 'send' },
  { keys: [['Enter'], ['Shift', 'Enter']], action: 'newLine' },
  { keys: [['Ctrl/⌘', 'B']], action: 'bold' },
  { keys: [['Ctrl/⌘', 'I']], action: 'italic' },
  { keys: [['Ctrl/⌘', 'Z']], action: 'undo' },
  {
    keys: [
      ['Ctrl/⌘', 'Shift', 'Z'],
      ['Ctrl', 'Y'],
    ],
    action: 'redo',
  },
  { keys: [['Ctrl/⌘', 'V']], action: 'paste' },
  { keys: [['Ctrl/⌘', 'Enter']], action: 'saveEdit' },
  { keys: [['Page Up'], ['Page Down']], action: 'messageNav' },
  {
    keys: [
      ['Ctrl', 'Home'],
      ['Ctrl', 'End'],
    ],
    action: 'leaveList',
  },
  { keys: [['↑'], ['↓']], action: 'fileNav' },
  { keys: [['Esc']], action: 'escape' },
  { keys: [['?']], action: 'help' },
];

/** Opens the help with `?` when no text field has the focus. */
export function useHelpShortcut(open: () => void): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '?' || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented)
        return;
      const target = event.target as HTMLElement | null;
      if (
        target?.closest(
          'input, textarea, select, [contenteditable=""], [contenteditable="true"], [role="dialog"]',
        )
      )
        return;
      event.preventDefault();
      open();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);
}

export function HelpDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const t = useT();
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={t('help.title')}
      description={t('help.description')}
      size="lg"
      testId="help-dialog"
      scrollFocusable
    >
      <h3 className="mb-2 text-sm font-semibold">{t('help.keysTitle')}</h3>
      <table className="w-full text-sm" data-testid="help-shortcuts">
        <thead className="sr-only">
          <tr>
            <th scope="col">{t('help.keysColumn')}</th>
            <th scope="col">{t('help.actionColumn')}</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(({ keys, action }) => (
            <tr key={action} className="border-b border-border last:border-0">
              <td className="py-1.5 pr-4 whitespace-nowrap">
                {keys.map((combo, index) => (
                  <span key={combo.join('+')}>
                    {index > 0 ? <span className="px-1 text-xs text-faint">/</span> : null}
                    {combo.map((key, keyIndex) => (
                      <span key={key}>
                        {keyIndex > 0 ? <span className="px-0.5 text-faint">+</span> : null}
                        <kbd className="rounded border border-border bg-subtle px-1.5 py-0.5 font-mono text-xs">
                          {key}
                        </kbd>
                      </span>
                    ))}
                  </span>
                ))}
              </td>
              <td className="py-1.5 text-muted">{t(`help.keys.${action}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(['messages', 'files', 'room'] as const).map((section) => (
        <section key={section} className="mt-4">
          <h3 className="text-sm font-semibold">{t(`help.${section}Title`)}</h3>
          <p className="mt-1 text-sm text-muted">{t(`help.${section}Body`)}</p>
        </section>
      ))}
    </Dialog>
  );
}
