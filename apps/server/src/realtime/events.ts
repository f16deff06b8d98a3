import type { ContentView, RoomView, WsMember, WsUploadInProgress } from '@elizabeth/protocol';

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
      /** A person set or cleared their display name (sessions and contents already rewritten). */
      type: 'member_renamed';
      room_id: number;
      slug: string;
      author_id: string;
      display_name: string | null;
    }
  | {
      /** A tus upload grew (throttled per upload by the instance receiving it) or was created. */
      type: 'upload_progress';
      room_id: number;
      slug: string;
      upload: WsUploadInProgress;
    }
  | {
      type: 'upload_ended';
      room_id: number;
      slug: string;
      id: number;
      reason: 'finished' | 'aborted' | 'expired';
    }
  | {
      type: 'sessions_revoked';
      room_id: number;
      slug: string;
      /** The revoked sessions; `except` instead means every session of the room but that one. */
      jtis?: string[];
      except?: string;
      reason: 'session_revoked' | 'password_changed';
    }
  | {
      /** A share link was created, revoked, opened or downloaded; only managers hear it. */
      type: 'share_links_changed';
      room_id: number;
      slug: string;
      link_id: number;
      reason: 'created' | 'revoked' | 'used';
    }
  | {
      /**
       * Published by the realtime gateway itself when a socket of the room opened or closed on
       * some instance. `version` orders the answers of the presence store, so an instance drops
       * a count that arrives after a newer one.
       */
      type: 'presence_changed';
      room_id: number;
      online: number;
      version: number;
      joined: boolean;
      /** Who is connected across instances (one entry per author id). */
      members: WsMember[];
    };

/** How the bus reaches other server instances, for `/status`. */
export interface EventBusStatus {
  kind: 'memory' | 'redis';
  /** False while the bus cannot reach the other instances (Redis down); local delivery goes on. */
  connected: boolean;
}

export interface EventBus {
  publish(event: RoomEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(handler: (event: RoomEvent) => void): () => void;
  /** Absent = in-process only, always connected. */
  status?(): EventBusStatus;
}
