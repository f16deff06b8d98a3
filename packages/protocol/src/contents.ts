import { z } from 'zod';

import { Timestamp } from './rooms.js';

export const ContentType = z.enum(['text', 'image', 'file', 'url']);
export type ContentType = z.infer<typeof ContentType>;

/** A message, file or link as every client sees it (storage paths and room ids never appear). */
export const ContentView = z
  .object({
    id: z.number().int(),
    content_type: ContentType,
    text: z.string().nullable(),
    url: z.string().nullable(),
    file_name: z.string().nullable(),
    size: z.number().int(),
    mime_type: z.string().nullable(),
    sequence_number: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
    /** Who posted it: the poster's stable author id (same across token refreshes), or null for contents older than display names. */
    author_id: z.string().nullable(),
    /** The poster's display name as it is now (a rename updates earlier contents too); null = no name. */
    author_name: z.string().nullable(),
  })
  .meta({ id: 'ContentView' });
export type ContentView = z.infer<typeof ContentView>;

/** Message sequence numbers and cursors are 32-bit, as in the reference. */
const Int32 = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);

export const ContentParams = z.object({ name: z.string().max(200), id: z.coerce.number().int().positive() });
export const ContentIdParams = z.object({ id: z.coerce.number().int().positive() });

export const ListContentsQuery = z.object({
  type: z
    .string()
    .max(100)
    .regex(
      /^(text|image|file|url)(,(text|image|file|url))*$/,
      'a comma-separated list of text, image, file, url',
    )
    .optional(),
});

export const ListMessagesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .max(40)
    .regex(/^-?\d{1,10}:\d{1,16}$/, 'a cursor "<sequence_number>:<id>" from next_cursor')
    .optional(),
});

export const MessagePage = z
  .object({
    items: z.array(ContentView),
    next_cursor: z.string().nullable(),
    has_more: z.boolean(),
    next_sequence_number: z.number().int(),
  })
  .meta({ id: 'MessagePage' });
export type MessagePage = z.infer<typeof MessagePage>;

/** Length in characters; the byte limit (`max_message_bytes`) is checked by the server. */
export const CreateMessageBody = z
  .object({
    text: z.string().max(4 * 1024 * 1024),
    sequence_number: Int32.optional(),
  })
  .meta({ id: 'CreateMessageBody' });
export type CreateMessageBody = z.infer<typeof CreateMessageBody>;

export const MessageResponse = z.object({ message: ContentView }).meta({ id: 'MessageResponse' });

export const CreateLinkBody = z
  .object({
    url: z.string().max(8192),
    name: z.string().max(1000),
    description: z.string().max(10_000).nullish(),
  })
  .meta({ id: 'CreateLinkBody' });
export type CreateLinkBody = z.infer<typeof CreateLinkBody>;

export const CreatedResponse = z.object({ created: ContentView }).meta({ id: 'CreatedContentResponse' });

/** Messages take `text`; links `url`, `name`, `description`; files `file_name`. */
export const UpdateContentBody = z
  .object({
    text: z
      .string()
      .max(4 * 1024 * 1024)
      .optional(),
    url: z.string().max(8192).optional(),
    name: z.string().max(1000).optional(),
    description: z.string().max(10_000).nullish(),
    file_name: z.string().max(1000).optional(),
  })
  .meta({ id: 'UpdateContentBody' });
export type UpdateContentBody = z.infer<typeof UpdateContentBody>;

export const UpdatedResponse = z.object({ updated: ContentView }).meta({ id: 'UpdatedContentResponse' });

export const DeleteContentsBody = z
  .object({ ids: z.array(z.number().int().positive()).min(1).max(1000) })
  .meta({ id: 'DeleteContentsBody' });
export type DeleteContentsBody = z.infer<typeof DeleteContentsBody>;

export const DeleteContentsResponse = z
  .object({
    deleted: z.array(z.number().int()),
    freed_size: z.number().int(),
    current_size: z.number().int(),
  })
  .meta({ id: 'DeleteContentsResponse' });
export type DeleteContentsResponse = z.infer<typeof DeleteContentsResponse>;

export const UploadFileDescriptor = z.object({
  name: z.string().min(1).max(1000),
  size: z.number().int().min(0),
  mime: z.string().max(255).nullish(),
});
export type UploadFileDescriptor = z.infer<typeof UploadFileDescriptor>;

export const PrepareUploadBody = z
  .object({ files: z.array(UploadFileDescriptor).min(1).max(1000) })
  .meta({ id: 'PrepareUploadBody' });
export type PrepareUploadBody = z.infer<typeof PrepareUploadBody>;

export const PrepareUploadResponse = z
  .object({
    reservation_id: z.number().int(),
    reserved_size: z.number().int(),
    expires_at: z.string(),
    current_size: z.number().int(),
    remaining_size: z.number().int(),
    max_size: z.number().int(),
  })
  .meta({ id: 'PrepareUploadResponse' });
export type PrepareUploadResponse = z.infer<typeof PrepareUploadResponse>;

export const UploadQuery = z.object({ reservation_id: z.coerce.number().int().positive().optional() });

export const UploadResponse = z
  .object({ uploaded: z.array(ContentView), current_size: z.number().int() })
  .meta({ id: 'UploadResponse' });
export type UploadResponse = z.infer<typeof UploadResponse>;

export const DownloadQuery = z.object({
  token: z.string().max(4096).optional(),
  disposition: z.enum(['attachment', 'inline']).optional(),
});

export const ArchiveQuery = z.object({
  token: z.string().max(4096).optional(),
  ids: z
    .string()
    .max(20_000)
    .regex(/^\d{1,16}(,\d{1,16})*$/, 'a comma-separated list of content ids')
    .optional(),
  messages: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .meta({ description: '`false` (or `0`): leave `messages.md` out of the zip; it is included by default' }),
});
export type ArchiveQuery = z.infer<typeof ArchiveQuery>;
