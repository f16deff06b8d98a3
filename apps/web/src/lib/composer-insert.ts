'use client';

import { useEffect, useRef } from 'react';

/**
 * Text other parts of the room (the file preview's "Insert into message") add to the composer.
 * Kept per room until a composer takes it, so an insertion made while no composer is mounted
 * (phone layout on the Files tab) is applied when one mounts.
 */
const pending = new Map<string, string[]>();
const listeners = new Map<string, Set<() => void>>();

export function insertIntoComposer(slug: string, text: string): void {
  pending.set(slug, [...(pending.get(slug) ?? []), text]);
  for (const listener of listeners.get(slug) ?? []) listener();
}

function take(slug: string): string[] {
  const items = pending.get(slug) ?? [];
  pending.delete(slug);
  return items;
}

/** Appends `addition` to `draft` as its own paragraph. */
export function appendBlock(draft: string, addition: string): string {
  const base = draft.replace(/\s+$/, '');
  return base ? `${base}\n\n${addition}` : addition;
}

/** Calls `apply` with every insertion for `slug`, including those made before the composer mounted. */
export function useComposerInserts(slug: string, apply: (text: string) => void): void {
  const latest = useRef(apply);
  useEffect(() => {
    latest.current = apply;
  });
  useEffect(() => {
    const drain = () => {
      for (const text of take(slug)) latest.current(text);
    };
    const set = listeners.get(slug) ?? new Set();
    set.add(drain);
    listeners.set(slug, set);
    drain();
    return () => {
      set.delete(drain);
    };
  }, [slug]);
}
