import {
  API_PREFIX,
  type HealthResponse,
  type PublicConfigResponse,
  type StatusResponse,
} from '@elizabeth/protocol';

import type { AppConfig } from '../../config/types.js';
import type { Database } from '../../db/index.js';
import { type Clock, toIso } from '../../lib/clock.js';
import { SERVER_VERSION } from '../../lib/version.js';
import type { BlobStorage } from '../../storage/blob-storage.js';

/** What the realtime layer reports about itself; the gateway provides it once it exists. */
export interface RealtimeStats {
  connections: number;
  rooms: number;
  bus: 'memory' | 'redis';
  bus_connected: boolean;
}

export const ROOM_NAME_RULE = {
  min_length: 3,
  max_length: 50,
  pattern: '^[\\p{L}\\p{N}](?:[\\p{L}\\p{N}_-]*[\\p{L}\\p{N}])?$',
};

const HEALTH_TIMEOUT_MS = 3000;

async function probe(check: () => Promise<void>): Promise<'ok' | 'failing'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('health check timed out')), HEALTH_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'failing';
  } finally {
    clearTimeout(timer);
  }
}

export class SystemService {
  constructor(
    private readonly deps: {
      config: AppConfig;
      database: Database;
      storage: BlobStorage;
      clock: Clock;
      startedAt: number;
      realtimeStats: () => RealtimeStats;
    },
  ) {}

  async health(): Promise<HealthResponse> {
    const [database, storage] = await Promise.all([
      probe(() => this.deps.database.ping()),
      probe(() => this.deps.storage.check()),
    ]);
    return {
      status: database === 'ok' && storage === 'ok' ? 'ok' : 'degraded',
      checks: { database, storage },
    };
  }

  status(): StatusResponse {
    const memory = process.memoryUsage();
    const now = this.deps.clock.now();
    return {
      version: SERVER_VERSION,
      uptime_seconds: Math.max(0, Math.round((now - this.deps.startedAt) / 1000)),
      started_at: toIso(this.deps.startedAt),
      database: this.deps.database.dialect,
      storage: this.deps.storage.kind,
      realtime: this.deps.realtimeStats(),
      memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
    };
  }

  publicConfig(): PublicConfigResponse {
    const { room, upload } = this.deps.config;
    const p = room.defaults.permissions;
    const permission = (p.read ? 1 : 0) | (p.edit ? 2 : 0) | (p.share ? 4 : 0) | (p.delete ? 8 : 0);
    return {
      room: {
        name: ROOM_NAME_RULE,
        expiry: {
          allowed_ages_seconds: room.expiry.allowed_ages,
          default_age_seconds: room.expiry.default_age,
        },
        defaults: {
          max_size: room.defaults.max_size,
          max_times_entered: room.defaults.max_times_entered,
          permission,
          password_protected: room.defaults.password !== null,
        },
        limits: { max_size: room.limits.max_size, max_times_entered: room.limits.max_times_entered },
        max_message_bytes: room.max_message_bytes,
      },
      upload: {
        chunk_size: upload.chunk_size,
        max_file_size: upload.max_file_size,
        reservation_ttl_seconds: upload.reservation_ttl_seconds,
        tus_endpoint: `${API_PREFIX}/rooms/{name}/uploads`,
      },
      realtime: { websocket_path: `${API_PREFIX}/ws` },
    };
  }
}
