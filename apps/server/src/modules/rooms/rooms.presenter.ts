import type { RoomView } from '@elizabeth/protocol';

import { toIso } from '../../lib/clock.js';
import type { RoomRow } from './rooms.repository.js';

export function toRoomView(room: RoomRow): RoomView {
  return {
    id: room.id,
    name: room.name,
    slug: room.slug,
    status: room.status === 0 ? 'open' : 'closed',
    password_protected: room.password_hash !== null,
    permission: room.permission,
    max_size: room.max_size,
    current_size: room.current_size,
    max_times_entered: room.max_times_entered,
    current_times_entered: room.current_times_entered,
    expire_at: toIso(room.expire_at),
    created_at: toIso(room.created_at),
    updated_at: toIso(room.updated_at),
  };
}
