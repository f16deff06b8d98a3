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
  })
  .meta({ id: 'ContentView' });
export type ContentView = z.infer<typeof ContentView>;
