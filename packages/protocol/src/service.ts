import { z } from 'zod';

export const HealthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({
      database: z.enum(['ok', 'failing']),
      storage: z.enum(['ok', 'failing']),
    }),
  })
  .meta({ id: 'HealthResponse' });
export type HealthResponse = z.infer<typeof HealthResponse>;

export const StatusResponse = z
  .object({
    version: z.string(),
    uptime_seconds: z.number(),
    started_at: z.string(),
    database: z.enum(['sqlite', 'postgres']),
    storage: z.enum(['local', 's3']),
    realtime: z.object({
      connections: z.number().int(),
      rooms: z.number().int(),
      bus: z.enum(['memory', 'redis']),
      bus_connected: z.boolean(),
    }),
    memory: z.object({ rss_bytes: z.number().int(), heap_used_bytes: z.number().int() }),
  })
  .meta({ id: 'StatusResponse' });
export type StatusResponse = z.infer<typeof StatusResponse>;

export const PublicConfigResponse = z
  .object({
    room: z.object({
      name: z.object({ min_length: z.number().int(), max_length: z.number().int(), pattern: z.string() }),
      expiry: z.object({
        allowed_ages_seconds: z.array(z.number().int()),
        default_age_seconds: z.number().int(),
      }),
      defaults: z.object({
        max_size: z.number().int(),
        max_times_entered: z.number().int(),
        permission: z.number().int(),
        password_protected: z.boolean(),
      }),
      limits: z.object({ max_size: z.number().int(), max_times_entered: z.number().int() }),
      max_message_bytes: z.number().int(),
    }),
    upload: z.object({
      chunk_size: z.number().int(),
      max_file_size: z.number().int(),
      reservation_ttl_seconds: z.number().int(),
      tus_endpoint: z.string(),
    }),
    realtime: z.object({ websocket_path: z.string() }),
  })
  .meta({ id: 'PublicConfigResponse' });
export type PublicConfigResponse = z.infer<typeof PublicConfigResponse>;
