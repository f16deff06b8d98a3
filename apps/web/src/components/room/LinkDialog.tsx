'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';

import { getApi } from '@/lib/api-client';
import type { ContentView } from '@elizabeth/protocol';
import { errorMessage } from '@/lib/errors';
import { useT } from '@/lib/i18n';
import { updateRoomFiles } from '@/lib/room-files';
import { normalizeHttpUrl } from '@/lib/safe-url';

import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { Field, Input, Textarea } from '../ui/input';
import { Spinner } from '../ui/misc';
import { useToast } from '../ui/toast';
import { useRoom } from './room-context';

export function LinkDialog({
  open,
  onOpenChange,
  editing,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  editing?: ContentView | undefined;
}) {
  const t = useT();
  const { slug } = useRoom();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setUrl(editing?.url ?? '');
    setName(editing?.file_name ?? '');
    setDescription(editing?.text ?? '');
    setTouched(false);
  }, [open, editing]);

  const normalized = normalizeHttpUrl(url);
  const urlError =
    touched && !normalized ? (url.trim() ? t('links.invalid') : t('links.required')) : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (!normalized) return;
    setBusy(true);
    const api = getApi();
    let fallbackName = normalized;
    try {
      const parsed = new URL(normalized);
      fallbackName = parsed.hostname + (parsed.pathname === '/' ? '' : parsed.pathname);
    } catch {
      // keep the URL
    }
    try {
      const body = {
        url: normalized,
        name: name.trim() || fallbackName,
        ...(description.trim() ? { description: description.trim() } : {}),
      };
      const saved = editing ? await api.updateContent(slug, editing.id, body) : await api.addLink(slug, body);
      updateRoomFiles(queryClient, slug, (list) => [...list.filter((item) => item.id !== saved.id), saved]);
      toast.success(editing ? t('links.updated') : t('links.added'));
      onOpenChange(false);
    } catch (error) {
      toast.error(t('links.failed'), errorMessage(t, error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={editing ? t('links.editTitle') : t('links.addTitle')}
      description={t('links.description')}
      testId="link-dialog"
    >
      <form onSubmit={submit} className="flex flex-col gap-3.5" noValidate>
        <Field
          label={t('links.url')}
          htmlFor="link-url"
          error={urlError}
          hint={
            normalized && normalized !== url.trim() ? t('links.willSave', { url: normalized }) : undefined
          }
        >
          <Input
            id="link-url"
            type="url"
            inputMode="url"
            autoFocus
            value={url}
            placeholder="https://example.com"
            onChange={(e) => setUrl(e.target.value)}
            onBlur={() => setTouched(true)}
            aria-invalid={!!urlError}
            data-testid="link-url"
          />
        </Field>
        <Field label={t('links.name')} htmlFor="link-name" optional>
          <Input
            id="link-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={255}
            data-testid="link-name"
          />
        </Field>
        <Field label={t('links.descriptionLabel')} htmlFor="link-description" optional>
          <Textarea
            id="link-description"
            rows={3}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            data-testid="link-description"
          />
        </Field>
        <div className="mt-1 flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={busy || !url.trim()} data-testid="link-submit">
            {busy ? <Spinner size={13} className="text-current" /> : null}
            {editing ? t('common.save') : t('links.add')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
