import { z } from 'zod';

export const Timestamp = z
  .string()
  .meta({ description: 'RFC 3339 UTC with milliseconds', example: '2026-11-28T10:00:00.000Z' });

export const RoomView = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    status: z.enum(['open', 'closed']),
    password_protected: z.boolean(),
    permission: z.number().int().min(0).max(15),
    max_size: z.number().int(),
    current_size: z.number().int(),
    max_times_entered: z.number().int(),
    current_times_entered: z.number().int(),
    expire_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'RoomView' });
export type RoomView = z.infer<typeof RoomView>;

export const RoomNameParams = z.object({ name: z.string().max(200) });

/** `GET /rooms/{name}?create=false` looks a room up without creating it (the web app's check). */
export const RoomLookupQuery = z.object({
  create: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: '`false`: answer 404 (or 410 for a recently purged room) instead of creating it' }),
});
export type RoomLookupQuery = z.infer<typeof RoomLookupQuery>;

const Password = z.string().max(1000);

export const CreateRoomBody = z
  .object({
    password: Password.nullish(),
    age_seconds: z.number().int().positive().optional(),
    max_times_entered: z.number().int().positive().optional(),
    max_size: z.number().int().positive().optional(),
  })
  .meta({ id: 'CreateRoomBody' });
export type CreateRoomBody = z.infer<typeof CreateRoomBody>;

export const UpdateSettingsBody = z
  .object({
    password: Password.optional(),
    remove_password: z.boolean().optional(),
    age_seconds: z.number().int().positive().optional(),
    max_times_entered: z.number().int().positive().optional(),
    max_size: z.number().int().positive().optional(),
  })
  .meta({ id: 'UpdateSettingsBody' });
export type UpdateSettingsBody = z.infer<typeof UpdateSettingsBody>;

export const UpdatePermissionsBody = z
  .object({
    edit: z.boolean().default(false),
    share: z.boolean().default(false),
    delete: z.boolean().default(false),
  })
  .meta({ id: 'UpdatePermissionsBody' });
export type UpdatePermissionsBody = z.infer<typeof UpdatePermissionsBody>;

export const DeletedResponse = z.object({ deleted: z.literal(true) }).meta({ id: 'DeletedResponse' });
