import type { ContentView, RoomView } from '@elizabeth/protocol';

/**
 * Domain events published by services. The realtime gateway turns them into WebSocket frames
 * and forced closes; with Redis they cross server instances, so they carry plain data only.
 */
export type RoomEvent =
  | {
      type: 'content_created' | 'content_updated' | 'content_deleted';
      room_id: number;
      slug: string;
      content: ContentView;
    }
  | {
      type: 'room_updated';
      room_id: number;
      slug: string;
      previous_slug?: string;
      room: RoomView;
      reason: 'settings_changed' | 'permissions_changed' | 'address_changed';
    }
  | { type: 'room_deleted'; room_id: number; slug: string; reason: 'room_deleted' | 'room_expired' }
  | { type: 'session_created'; room_id: number; slug: string; jti: string }
  | {
      type: 'sessions_revoked';
      room_id: number;
      slug: string;
      /** The revoked sessions; `except` instead means every session of the room but that one. */
      jtis?: string[];
      except?: string;
      reason: 'session_revoked' | 'password_changed';
    };

export interface EventBus {
  publish(event: RoomEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(handler: (event: RoomEvent) => void): () => void;
}
