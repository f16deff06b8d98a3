'use client';

import { useSyncExternalStore } from 'react';

export type TransferStatus = 'queued' | 'active' | 'paused' | 'done' | 'error' | 'cancelled';

export interface Transfer {
  id: string;
  room: string;
  direction: 'up' | 'down';
  name: string;
  total: number;
  loaded: number;
  status: TransferStatus;
  /** bytes per second, smoothed */
  speed: number;
  error?: string | undefined;
  startedAt: number;
  /** Controls; absent when not applicable. */
  pause?: (() => void) | undefined;
  resume?: (() => void) | undefined;
  cancel?: (() => void) | undefined;
}

let transfers: Transfer[] = [];
const listeners = new Set<() => void>();
const samples = new Map<string, { at: number; loaded: number }>();

function emit() {
  for (const listener of listeners) listener();
}

export function addTransfer(
  transfer: Omit<Transfer, 'speed' | 'startedAt' | 'loaded'> & { loaded?: number },
): void {
  transfers = [...transfers, { loaded: 0, speed: 0, startedAt: Date.now(), ...transfer }];
  emit();
}

export function updateTransfer(id: string, patch: Partial<Transfer>): void {
  transfers = transfers.map((item) => {
    if (item.id !== id) return item;
    const next = { ...item, ...patch };
    if (patch.loaded !== undefined) {
      const now = Date.now();
      const previous = samples.get(id);
      if (previous && now > previous.at) {
        const instant = ((patch.loaded - previous.loaded) * 1000) / (now - previous.at);
        if (instant >= 0) next.speed = item.speed > 0 ? item.speed * 0.7 + instant * 0.3 : instant;
      }
      if (!previous || now - previous.at >= 250) samples.set(id, { at: now, loaded: patch.loaded });
    }
    if (patch.status && patch.status !== 'active') {
      next.speed = 0;
      samples.delete(id);
    }
    return next;
  });
  emit();
  if (patch.status === 'done') setTimeout(() => removeTransfer(id), 4000);
  if (patch.status === 'cancelled') setTimeout(() => removeTransfer(id), 2500);
}

export function removeTransfer(id: string): void {
  transfers = transfers.filter((item) => item.id !== id);
  samples.delete(id);
  emit();
}

export function activeUploadBytes(room: string): number {
  return transfers
    .filter(
      (item) =>
        item.room === room &&
        item.direction === 'up' &&
        (item.status === 'active' || item.status === 'queued' || item.status === 'paused'),
    )
    .reduce((sum, item) => sum + (item.total - item.loaded), 0);
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const EMPTY: Transfer[] = [];

export function useTransfers(): Transfer[] {
  return useSyncExternalStore(
    subscribe,
    () => transfers,
    () => EMPTY,
  );
}

/** Seconds left at the current speed, or undefined when unknown. */
export function remainingSeconds(transfer: Pick<Transfer, 'total' | 'loaded' | 'speed'>): number | undefined {
  if (transfer.speed <= 0 || transfer.total <= 0) return undefined;
  return Math.max(0, (transfer.total - transfer.loaded) / transfer.speed);
}
