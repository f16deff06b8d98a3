'use client';

import { clsx } from 'clsx';
import {
  Bold,
  Code,
  Heading1,
  Heading2,
  Heading3,
  Italic,
  Link2,
  List,
  ListOrdered,
  Maximize2,
  Paperclip,
  Quote,
  Redo2,
  SendHorizontal,
  SquareCode,
  Strikethrough,
  Undo2,
} from 'lucide-react';
import {
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ClipboardEvent,
  type KeyboardEvent,
} from 'react';

import { getApi } from '@/lib/api-client';
import { appendBlock, useComposerInserts } from '@/lib/composer-insert';
import { useConfig } from '@/lib/config';
import { errorMessage } from '@/lib/errors';
import { formatBytes } from '@/lib/format';
import { CODE_LANGUAGES } from '@/lib/highlight';
import { useT } from '@/lib/i18n';
import { EditHistory, changeOffset, type Snapshot } from '@/lib/edit-history';
import { codeBlock, headingLines, prefixLines, wrapSelection, type Edit } from '@/lib/markdown-edit';
import { usePrefs } from '@/lib/prefs';
import { useTransfers } from '@/lib/transfers';

import { IconButton, Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { useRoom } from './room-context';

function draftKey(slug: string) {
  return `elizabeth:draft:${slug}`;
}

export function Composer() {
  const t = useT();
  const { slug, canEdit, upload, upsertMessage } = useRoom();
  const { config } = useConfig();
  const prefs = usePrefs();
  const toast = useToast();
  const area = useRef<HTMLTextAreaElement>(null);
  const bigArea = useRef<HTMLTextAreaElement>(null);
  const [expanded, setExpanded] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [lang, setLang] = useState('javascript');
  const [sending, setSending] = useState(false);
  const history = useRef(new EditHistory());
  // Re-renders the toolbar when undo/redo become (un)available.
  const [, setHistoryVersion] = useState(0);
  const touch = useTouchInput();

  useEffect(() => {
    try {
      setText(sessionStorage.getItem(draftKey(slug)) ?? '');
    } catch {
      // ignore
    }
  }, [slug]);

  useEffect(() => {
    const timer = setTimeout(() => {
      try {
        if (text) sessionStorage.setItem(draftKey(slug), text);
        else sessionStorage.removeItem(draftKey(slug));
      } catch {
        // ignore
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [text, slug]);

  // Grow with the content up to a limit.
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, Math.round(window.innerHeight * 0.4))}px`;
  }, [text]);

  // "Insert into message" from a file preview: append the file reference and focus the editor.
  useComposerInserts(slug, (addition) => {
    remember({ value: text, start: text.length, end: text.length }, 'edit');
    setText((value) => appendBlock(value, addition));
    requestAnimationFrame(() => {
      const el = area.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    });
  });

  const bytes = new TextEncoder().encode(text.trim()).length;
  const tooLong = bytes > config.room.max_message_bytes;

  function remember(before: Snapshot, kind: 'typing' | 'edit') {
    history.current.record(before, kind);
    setHistoryVersion((v) => v + 1);
  }

  function show(result: Snapshot) {
    const el = expanded ? bigArea.current : area.current;
    setText(result.value);
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      el.setSelectionRange(result.start, result.end);
    });
  }

  function apply(edit: (value: string, start: number, end: number) => Edit) {
    const el = expanded ? bigArea.current : area.current;
    if (!el) return;
    remember({ value: el.value, start: el.selectionStart, end: el.selectionEnd }, 'edit');
    show(edit(el.value, el.selectionStart, el.selectionEnd));
  }

  function travel(direction: 'undo' | 'redo') {
    const el = expanded ? bigArea.current : area.current;
    const current = { value: text, start: el?.selectionStart ?? 0, end: el?.selectionEnd ?? 0 };
    const target = direction === 'undo' ? history.current.undo(current) : history.current.redo(current);
    if (!target) return;
    setHistoryVersion((v) => v + 1);
    show(target);
  }

  function onType(next: string) {
    const caret = changeOffset(text, next);
    remember({ value: text, start: caret, end: caret }, 'typing');
    setText(next);
  }

  async function send() {
    const body = text.trim();
    if (!body || sending || tooLong) return;
    setSending(true);
    try {
      upsertMessage(await getApi().postMessage(slug, body));
      setText('');
      history.current.clear();
      setHistoryVersion((v) => v + 1);
      setExpanded(false);
      area.current?.focus();
    } catch (error) {
      toast.error(t('composer.sendFailed'), errorMessage(t, error));
    } finally {
      setSending(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing) return;
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === 'Enter' && (mod || (prefs.enterToSend && !event.shiftKey))) {
      event.preventDefault();
      void send();
    } else if (mod && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      travel(event.shiftKey ? 'redo' : 'undo');
    } else if (event.ctrlKey && !event.metaKey && event.key.toLowerCase() === 'y') {
      event.preventDefault();
      travel('redo');
    } else if (mod && event.key.toLowerCase() === 'b') {
      event.preventDefault();
      apply((v, s, e) => wrapSelection(v, s, e, '**', '**', t('composer.boldText')));
    } else if (mod && event.key.toLowerCase() === 'i') {
      event.preventDefault();
      apply((v, s, e) => wrapSelection(v, s, e, '*', '*', t('composer.italicText')));
    }
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0) return;
    event.preventDefault();
    upload(
      files.map((file, index) =>
        file.name && file.name !== 'image.png'
          ? file
          : new File(
              [file],
              `pasted-${new Date().toISOString().replace(/[:.]/g, '-')}${index ? `-${index}` : ''}.${file.type.split('/')[1] ?? 'bin'}`,
              { type: file.type },
            ),
      ),
    );
  }

  const tools: { label: string; icon: typeof Bold; run: () => void; testId: string }[] = [
    {
      label: t('composer.bold'),
      icon: Bold,
      testId: 'tool-bold',
      run: () => apply((v, s, e) => wrapSelection(v, s, e, '**', '**', t('composer.boldText'))),
    },
    {
      label: t('composer.italic'),
      icon: Italic,
      testId: 'tool-italic',
      run: () => apply((v, s, e) => wrapSelection(v, s, e, '*', '*', t('composer.italicText'))),
    },
    {
      label: t('composer.strike'),
      icon: Strikethrough,
      testId: 'tool-strike',
      run: () => apply((v, s, e) => wrapSelection(v, s, e, '~~', '~~', t('composer.strikeText'))),
    },
    {
      label: t('composer.code'),
      icon: Code,
      testId: 'tool-code',
      run: () => apply((v, s, e) => wrapSelection(v, s, e, '`', '`', 'code')),
    },
    {
      label: t('composer.link'),
      icon: Link2,
      testId: 'tool-link',
      run: () =>
        apply((v, s, e) => {
          const label = v.slice(s, e) || t('composer.linkText');
          const next = `${v.slice(0, s)}[${label}](https://)${v.slice(e)}`;
          const urlStart = s + label.length + 3;
          return { value: next, start: urlStart, end: urlStart + 8 };
        }),
    },
    ...([1, 2, 3] as const).map((level) => ({
      label: t('composer.heading', { level }),
      icon: [Heading1, Heading2, Heading3][level - 1]!,
      testId: `tool-h${level}`,
      run: () => apply((v, s, e) => headingLines(v, s, e, level)),
    })),
    {
      label: t('composer.bullets'),
      icon: List,
      testId: 'tool-list',
      run: () => apply((v, s, e) => prefixLines(v, s, e, () => '- ')),
    },
    {
      label: t('composer.numbers'),
      icon: ListOrdered,
      testId: 'tool-ordered',
      run: () => apply((v, s, e) => prefixLines(v, s, e, (i) => `${i + 1}. `)),
    },
    {
      label: t('composer.quote'),
      icon: Quote,
      testId: 'tool-quote',
      run: () => apply((v, s, e) => prefixLines(v, s, e, () => '> ')),
    },
  ];

  /**
   * The Markdown toolbar; the inline and the expanded editor each render one, so ids and test
   * ids of the expanded one carry a prefix (`expanded-tool-bold`, …).
   */
  const toolbar = (selectId: string, testIdPrefix = '') => (
    <div
      className="flex min-w-0 flex-1 items-center gap-1 overflow-x-auto [scrollbar-width:none]"
      role="toolbar"
      aria-label={t('composer.toolbar')}
    >
      {tools.map(({ label, icon: Icon, run, testId }) => (
        <IconButton
          key={testId}
          size="icon-sm"
          label={label}
          onMouseDown={(event) => event.preventDefault()}
          onClick={run}
          data-testid={testIdPrefix + testId}
        >
          <Icon size={15} aria-hidden />
        </IconButton>
      ))}
      <span aria-hidden className="mx-1 h-4 w-px shrink-0 bg-border" />
      <IconButton
        size="icon-sm"
        label={t('composer.undo')}
        disabled={!history.current.canUndo}
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => travel('undo')}
        data-testid={`${testIdPrefix}tool-undo`}
        aria-keyshortcuts="Control+Z Meta+Z"
      >
        <Undo2 size={15} aria-hidden />
      </IconButton>
      <IconButton
        size="icon-sm"
        label={t('composer.redo')}
        disabled={!history.current.canRedo}
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => travel('redo')}
        data-testid={`${testIdPrefix}tool-redo`}
        aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z Control+Y"
      >
        <Redo2 size={15} aria-hidden />
      </IconButton>
      <span aria-hidden className="mx-1 h-4 w-px shrink-0 bg-border" />
      <IconButton
        size="icon-sm"
        label={t('composer.codeBlock')}
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => apply((v, s, e) => codeBlock(v, s, e, lang))}
        data-testid={`${testIdPrefix}tool-code-block`}
      >
        <SquareCode size={15} aria-hidden />
      </IconButton>
      <label htmlFor={selectId} className="sr-only">
        {t('composer.codeLanguage')}
      </label>
      <select
        id={selectId}
        value={lang}
        onChange={(event) => setLang(event.target.value)}
        className="h-7 shrink-0 cursor-pointer rounded-md border border-transparent bg-transparent px-1 text-xs text-muted hover:border-border hover:text-fg"
        data-testid={`${testIdPrefix}code-language-select`}
      >
        {CODE_LANGUAGES.map(([value, label]) => (
          <option key={value} value={value}>
            {value === 'text' ? t('composer.plainText') : label}
          </option>
        ))}
      </select>
    </div>
  );

  const sendButton = (testId: string) => (
    <Button
      size="sm"
      variant="primary"
      onClick={() => void send()}
      disabled={!text.trim() || sending || tooLong}
      data-testid={testId}
      aria-keyshortcuts={touch ? undefined : 'Control+Enter Meta+Enter'}
    >
      {sending ? <Spinner size={13} className="text-current" /> : <SendHorizontal size={14} aria-hidden />}
      {t('composer.send')}
    </Button>
  );

  if (!canEdit) {
    return (
      <div
        className="border-t border-border px-4 py-3 text-center text-sm text-muted"
        data-testid="composer-readonly"
      >
        {t('composer.readOnly')}
      </div>
    );
  }

  return (
    <div className="shrink-0 border-t border-border bg-surface px-3 pt-2 pb-3 sm:px-5" data-testid="composer">
      <UploadStatus />
      <div className="mx-auto w-full max-w-3xl rounded-xl border border-border bg-surface shadow-sm transition-colors focus-within:border-accent/60 focus-within:ring-3 focus-within:ring-accent/15">
        <label htmlFor="composer-input" className="sr-only">
          {t('composer.label')}
        </label>
        <textarea
          id="composer-input"
          ref={area}
          value={text}
          rows={2}
          onChange={(event) => onType(event.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          placeholder={
            touch
              ? t('composer.placeholderTouch')
              : prefs.enterToSend
                ? t('composer.placeholderEnter')
                : t('composer.placeholder')
          }
          className="block max-h-[40vh] min-h-[3.25rem] w-full resize-none bg-transparent px-3.5 pt-3 pb-1 text-[0.9375rem] leading-relaxed outline-none placeholder:text-faint focus-visible:outline-none"
          data-testid="composer-input"
          aria-invalid={tooLong}
          aria-describedby="composer-hint"
        />
        <div className="flex items-center gap-2 px-1.5 pb-1.5">
          {toolbar('composer-lang')}
          <IconButton
            size="icon-sm"
            label={t('composer.expand')}
            onClick={() => setExpanded(true)}
            data-testid="composer-expand"
          >
            <Maximize2 size={15} aria-hidden />
          </IconButton>
          <IconButton
            size="icon-sm"
            label={t('composer.attach')}
            onClick={() => fileInput.current?.click()}
            data-testid="composer-attach"
          >
            <Paperclip size={15} aria-hidden />
          </IconButton>
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            onChange={(event) => {
              upload(Array.from(event.target.files ?? []));
              event.target.value = '';
            }}
          />
          {sendButton('composer-send')}
        </div>
      </div>
      <p
        id="composer-hint"
        className={clsx(
          'mx-auto mt-1.5 max-w-3xl px-1 text-[0.6875rem]',
          tooLong ? 'text-danger' : 'text-faint max-sm:sr-only',
        )}
      >
        {tooLong
          ? t('composer.tooLong', {
              size: formatBytes(bytes),
              max: formatBytes(config.room.max_message_bytes),
            })
          : touch
            ? t('composer.hintTouch')
            : prefs.enterToSend
              ? t('composer.hintEnter')
              : t('composer.hint')}
      </p>
      <Dialog
        open={expanded}
        onOpenChange={setExpanded}
        title={t('composer.expandedTitle')}
        description={t('composer.expandedHint')}
        size="xl"
        testId="composer-expanded"
        footer={
          <>
            <Button onClick={() => setExpanded(false)}>{t('common.cancel')}</Button>
            {sendButton('composer-expanded-send')}
          </>
        }
      >
        <div className="flex min-h-0 flex-1 flex-col gap-2">
          {toolbar('composer-lang-expanded', 'expanded-')}
          <label htmlFor="composer-expanded-input" className="sr-only">
            {t('composer.label')}
          </label>
          <textarea
            id="composer-expanded-input"
            ref={bigArea}
            autoFocus
            value={text}
            onChange={(event) => onType(event.target.value)}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            className="h-[55dvh] w-full resize-none rounded-lg border border-border bg-surface px-3.5 py-3 font-mono text-[0.875rem] leading-relaxed outline-none focus-visible:border-accent/60"
            data-testid="composer-expanded-input"
            aria-invalid={tooLong}
          />
        </div>
      </Dialog>
    </div>
  );
}

const COARSE_POINTER = '(pointer: coarse)';

/** Whether the main input is a touch screen (no keyboard shortcuts to advertise). */
function useTouchInput(): boolean {
  return useSyncExternalStore(
    (listener) => {
      const media = window.matchMedia(COARSE_POINTER);
      media.addEventListener('change', listener);
      return () => media.removeEventListener('change', listener);
    },
    () => window.matchMedia(COARSE_POINTER).matches,
    () => false,
  );
}

/** A one-line summary of running uploads above the composer (the full panel lives with the files). */
function UploadStatus() {
  const t = useT();
  const { slug } = useRoom();
  const active = useTransfers().filter(
    (item) =>
      item.room === slug && item.direction === 'up' && (item.status === 'active' || item.status === 'queued'),
  );
  if (active.length === 0) return null;
  const total = active.reduce((sum, item) => sum + item.total, 0);
  const loaded = active.reduce((sum, item) => sum + item.loaded, 0);
  const pct = total > 0 ? Math.round((loaded / total) * 100) : 0;
  return (
    <p
      className="mx-auto mb-1.5 flex max-w-3xl items-center gap-2 px-1 text-xs text-muted"
      role="status"
      data-testid="composer-upload-status"
    >
      <Spinner size={12} />
      {t('composer.uploading', { count: active.length, percent: pct })}
    </p>
  );
}
