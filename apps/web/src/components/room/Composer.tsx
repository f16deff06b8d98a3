'use client';

import { clsx } from 'clsx';
import {
  Bold,
  Code,
  Ellipsis,
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
  Fragment,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ClipboardEvent,
  type KeyboardEvent,
  type ReactNode,
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

  const tools: Tool[] = [
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

  /** A tool on the toolbar's line: its icon, named by its label (test id only where shown). */
  const barButton = ({ label, icon: Icon, run, testId, props }: Tool, prefix: string, shown: boolean) => (
    <IconButton
      size="icon-sm"
      label={label}
      onMouseDown={(event) => event.preventDefault()}
      onClick={run}
      data-testid={shown ? prefix + testId : undefined}
      {...props}
    >
      <Icon size={15} aria-hidden />
    </IconButton>
  );

  /** A tool in the "more" panel: its icon and name, the shortcut (if any) set apart. */
  const panelButton = ({ label, icon: Icon, run, testId, props }: Tool, prefix: string) => {
    const [, name = label, shortcut] = /^(.*?)\s*[(（]([^()（）]+)[)）]$/.exec(label) ?? [];
    return (
      <Button
        variant="ghost"
        size="sm"
        className="w-full justify-start! text-fg"
        aria-label={label}
        onMouseDown={(event) => event.preventDefault()}
        onClick={run}
        data-testid={prefix + testId}
        {...props}
      >
        <Icon size={15} aria-hidden />
        <span className="flex-1 text-left">{name}</span>
        {shortcut ? <span className="ps-4 text-[0.6875rem] font-normal text-faint">{shortcut}</span> : null}
      </Button>
    );
  };

  /**
   * The Markdown toolbar; the inline and the expanded editor each render one, so ids and test
   * ids of the expanded one carry a prefix (`expanded-tool-bold`, …). Whatever does not fit on
   * its one line moves, whole, into its "more" panel.
   */
  const toolbar = (selectId: string, testIdPrefix = '', placement: 'above' | 'below' = 'above') => {
    const languageOptions = CODE_LANGUAGES.map(([value, label]) => (
      <option key={value} value={value}>
        {value === 'text' ? t('composer.plainText') : label}
      </option>
    ));
    const historyTools: Tool[] = [
      {
        label: t('composer.undo'),
        icon: Undo2,
        testId: 'tool-undo',
        run: () => travel('undo'),
        props: { disabled: !history.current.canUndo, 'aria-keyshortcuts': 'Control+Z Meta+Z' },
      },
      {
        label: t('composer.redo'),
        icon: Redo2,
        testId: 'tool-redo',
        run: () => travel('redo'),
        props: {
          disabled: !history.current.canRedo,
          'aria-keyshortcuts': 'Control+Shift+Z Meta+Shift+Z Control+Y',
        },
      },
    ];
    const codeBlockTool: Tool = {
      label: t('composer.codeBlock'),
      icon: SquareCode,
      testId: 'tool-code-block',
      run: () => apply((v, s, e) => codeBlock(v, s, e, lang)),
    };
    const separator = <span aria-hidden className="mx-1 h-4 w-px shrink-0 bg-border" />;
    const divider = <span aria-hidden className="mx-2 my-1 h-px shrink-0 bg-border first:hidden" />;
    const units: ToolbarUnit[] = [
      ...tools.map((tool) => ({
        key: tool.testId,
        bar: (shown: boolean) => barButton(tool, testIdPrefix, shown),
        panel: panelButton(tool, testIdPrefix),
      })),
      {
        key: 'history',
        bar: (shown: boolean) => (
          <>
            {separator}
            {historyTools.map((tool) => (
              <Fragment key={tool.testId}>{barButton(tool, testIdPrefix, shown)}</Fragment>
            ))}
          </>
        ),
        panel: (
          <>
            {divider}
            {historyTools.map((tool) => (
              <Fragment key={tool.testId}>{panelButton(tool, testIdPrefix)}</Fragment>
            ))}
          </>
        ),
      },
      {
        key: 'code-block',
        bar: (shown: boolean) => (
          <>
            {separator}
            {barButton(codeBlockTool, testIdPrefix, shown)}
            <label htmlFor={shown ? selectId : undefined} className="sr-only">
              {t('composer.codeLanguage')}
            </label>
            <select
              id={shown ? selectId : undefined}
              value={lang}
              onChange={(event) => setLang(event.target.value)}
              className="h-7 shrink-0 cursor-pointer rounded-md border border-transparent bg-transparent px-1 text-xs text-muted hover:border-border hover:text-fg"
              data-testid={shown ? `${testIdPrefix}code-language-select` : undefined}
            >
              {languageOptions}
            </select>
          </>
        ),
        panel: (
          <>
            {divider}
            {panelButton(codeBlockTool, testIdPrefix)}
            <div className="flex items-center gap-3 px-2.5 py-1 text-[0.8125rem] text-muted">
              <label htmlFor={`${selectId}-more`} className="flex-1">
                {t('composer.codeLanguage')}
              </label>
              <select
                id={`${selectId}-more`}
                value={lang}
                onChange={(event) => setLang(event.target.value)}
                className="h-7 shrink-0 cursor-pointer rounded-md border border-border bg-surface px-1 text-xs text-fg hover:border-border-strong"
                data-testid={`${testIdPrefix}code-language-select`}
              >
                {languageOptions}
              </select>
            </div>
          </>
        ),
      },
    ];
    return (
      <FormattingToolbar
        label={t('composer.toolbar')}
        moreLabel={t('composer.more')}
        units={units}
        testIdPrefix={testIdPrefix}
        placement={placement}
      />
    );
  };

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
          {toolbar('composer-lang-expanded', 'expanded-', 'below')}
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

/** One piece of the formatting toolbar that moves into the "more" panel whole. */
interface Tool {
  label: string;
  icon: typeof Bold;
  run: () => void;
  testId: string;
  props?: { disabled?: boolean; 'aria-keyshortcuts'?: string };
}

interface ToolbarUnit {
  key: string;
  /** In the toolbar; `shown` is false while it is hidden (test ids and ids then belong to the panel). */
  bar: (shown: boolean) => ReactNode;
  /** In the "more" panel. */
  panel: ReactNode;
}

/**
 * A one-line toolbar that never shows a control in part: its units wrap onto lines that are
 * clipped away (so even before any script runs nothing is cut), the wrapped ones are made
 * invisible (out of the tab order and the accessibility tree) and offered in a "more" panel.
 */
function FormattingToolbar({
  label,
  moreLabel,
  units,
  testIdPrefix,
  placement,
}: {
  label: string;
  moreLabel: string;
  units: ToolbarUnit[];
  testIdPrefix: string;
  /** Where the panel opens: above the inline composer, below the toolbar in the larger editor. */
  placement: 'above' | 'below';
}) {
  const row = useRef<HTMLDivElement>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const more = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const [fit, setFit] = useState(units.length);
  const [open, setOpen] = useState(false);
  const focusPanel = useRef(false);
  const panelId = useId();
  const overflows = fit < units.length;

  // Count the units on the first line whenever the row or any unit changes size.
  useLayoutEffect(() => {
    const el = row.current;
    if (!el) return;
    const measure = () => {
      const children = Array.from(el.children) as HTMLElement[];
      const first = children[0];
      if (!first) return;
      const limit = first.offsetTop + first.offsetHeight / 2;
      const wrapped = children.findIndex((child) => child.offsetTop >= limit);
      setFit(wrapped === -1 ? children.length : wrapped);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    for (const child of Array.from(el.children)) observer.observe(child);
    return () => observer.disconnect();
  }, [units.length]);

  const showPanel = open && overflows;

  // While the panel is open: Escape closes it (and not the dialog around it), so does a click
  // elsewhere; opened from the keyboard, the focus moves into it.
  useEffect(() => {
    if (!showPanel) return;
    if (focusPanel.current)
      panel.current?.querySelector<HTMLElement>('button:not(:disabled), select')?.focus();
    focusPanel.current = false;
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      const hadFocus = wrapper.current?.contains(document.activeElement);
      setOpen(false);
      if (hadFocus) more.current?.focus();
    };
    const onPointerDown = (event: PointerEvent) => {
      if (!wrapper.current?.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener('keydown', onKeyDown, true);
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => {
      window.removeEventListener('keydown', onKeyDown, true);
      document.removeEventListener('pointerdown', onPointerDown, true);
    };
  }, [showPanel]);

  return (
    <div
      ref={wrapper}
      className="relative flex min-w-0 flex-1 items-center gap-1"
      role="toolbar"
      aria-label={label}
      onBlur={(event) => {
        const next = event.relatedTarget as Node | null;
        if (next && !event.currentTarget.contains(next)) setOpen(false);
      }}
    >
      <div
        ref={row}
        className={clsx(
          // One line of 1.75rem plus room for focus rings; further lines fall outside and are clipped.
          'relative flex h-9 min-w-0 flex-1 flex-wrap content-start items-center gap-x-1 gap-y-4 overflow-hidden p-1 -ms-1',
          placement === 'above' && '-my-1',
        )}
      >
        {units.map((unit, index) => (
          <span
            key={unit.key}
            className={clsx('flex shrink-0 items-center gap-1', index >= fit && 'invisible')}
          >
            {unit.bar(index < fit)}
          </span>
        ))}
      </div>
      {overflows ? (
        <IconButton
          ref={more}
          size="icon-sm"
          label={moreLabel}
          aria-expanded={showPanel}
          aria-controls={showPanel ? panelId : undefined}
          className={clsx(showPanel && 'bg-hover text-fg')}
          onMouseDown={(event) => event.preventDefault()}
          onClick={(event) => {
            // Keyboard activation has no click count: then the focus follows into the panel.
            focusPanel.current = event.detail === 0;
            setOpen((value) => !value);
          }}
          data-testid={`${testIdPrefix}tool-more`}
        >
          <Ellipsis size={15} aria-hidden />
        </IconButton>
      ) : null}
      {showPanel ? (
        <div
          ref={panel}
          id={panelId}
          role="group"
          aria-label={moreLabel}
          className={clsx(
            'absolute left-0 z-30 flex max-h-[min(60dvh,26rem)] w-max max-w-[calc(100vw-2rem)] min-w-52 flex-col overflow-y-auto rounded-lg border border-border bg-surface p-1 shadow-card',
            placement === 'above' ? 'bottom-full mb-2.5' : 'top-full mt-1.5',
          )}
          onClick={(event) => {
            if ((event.target as HTMLElement).closest('button')) setOpen(false);
          }}
          data-testid={`${testIdPrefix}tool-more-panel`}
        >
          {units.slice(fit).map((unit) => (
            <Fragment key={unit.key}>{unit.panel}</Fragment>
          ))}
        </div>
      ) : null}
    </div>
  );
}
