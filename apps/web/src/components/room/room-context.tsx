'use client';

import { createContext, useContext } from 'react';

import type { ContentView, RoomView } from '@elizabeth/protocol';
import type { ConnectionState } from '@/lib/realtime';

export interface RoomContextValue {
  slug: string;
  room: RoomView;
  /** Permission bits of the session (token claims). */
  tokenPermission: number;
  /** Bits usable for contents: room ∩ token. */
  contentPermission: number;
  /** Management (settings, permissions, sessions, delete room) needs DELETE in the token. */
  canManage: boolean;
  canEdit: boolean;
  canDelete: boolean;
  canShare: boolean;
  online: number | undefined;
  connection: ConnectionState;
  jti: string | undefined;
  /** Start uploads of files into the room (used by the composer and the file panel). */
  upload: (files: File[]) => void;
  /** Shows a message we just created without waiting for the realtime echo. */
  upsertMessage: (message: ContentView) => void;
  /** Opens the preview of a content. */
  preview: (id: number) => void;
  /** Copies text, falling back to a manual-copy dialog. */
  copy: (text: string, successMessage?: string) => Promise<void>;
  /** The slug moved (private address): the new one. */
  movedTo: string | undefined;
  setMovedTo: (slug: string) => void;
  /** This page moved the room (Share off/on) and holds a session there: follow it. */
  moveTo: (slug: string, room: RoomView) => void;
}

export const RoomContext = createContext<RoomContextValue | null>(null);

export function useRoom(): RoomContextValue {
  const value = useContext(RoomContext);
  if (!value) throw new Error('useRoom outside RoomContext');
  return value;
}
