import { z } from 'zod';

import { RoomView } from './rooms.js';

/** Admin API (API.md §5), enabled only when the server has an admin token. */

export const AdminRoomsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque; the `next_cursor` of the previous page. */
  cursor: z.string().max(100).optional(),
});
export type AdminRoomsQuery = z.infer<typeof AdminRoomsQuery>;

export const AdminRoomView = RoomView.extend({
  /** Open WebSockets of the room across instances. */
  sockets: z.number().int().nonnegative(),
  contents: z.number().int().nonnegative(),
}).meta({ id: 'AdminRoomView' });
export type AdminRoomView = z.infer<typeof AdminRoomView>;

export const AdminRoomsResponse = z
  .object({ items: z.array(AdminRoomView), next_cursor: z.string().nullable(), has_more: z.boolean() })
  .meta({ id: 'AdminRoomsResponse' });
export type AdminRoomsResponse = z.infer<typeof AdminRoomsResponse>;

export const AdminSlugParams = z.object({ slug: z.string().max(200) });

export const AuthCleanupResponse = z
  .object({
    expired_sessions: z.number().int(),
    expired_refresh_tokens: z.number().int(),
    expired_blacklist: z.number().int(),
  })
  .meta({ id: 'AuthCleanupResponse' });
export type AuthCleanupResponse = z.infer<typeof AuthCleanupResponse>;

export const LifecyclePassResponse = AuthCleanupResponse.extend({
  expired_rooms: z.number().int(),
  released_reservations: z.number().int(),
  released_names: z.number().int(),
  /** Share-link download slots whose lease lapsed (their server died), given back. */
  released_download_leases: z.number().int(),
  blobs_deleted: z.number().int(),
  /** Stored keys that no row named (left by a crash), removed by the orphan sweep of this pass. */
  orphans_deleted: z.number().int(),
  /** True when another instance was running a pass at that moment: nothing was done. */
  skipped: z.boolean(),
  duration_ms: z.number().int(),
}).meta({ id: 'LifecyclePassResponse' });
export type LifecyclePassResponse = z.infer<typeof LifecyclePassResponse>;
