import type { ContentView } from '@elizabeth/protocol';

import { CONTENT_TYPE, type ContentRow, type ContentTypeCode } from '../../db/index.js';
import { toIso } from '../../lib/clock.js';

const KIND_NAMES: Record<ContentTypeCode, ContentView['content_type']> = {
  [CONTENT_TYPE.text]: 'text',
  [CONTENT_TYPE.image]: 'image',
  [CONTENT_TYPE.file]: 'file',
  [CONTENT_TYPE.url]: 'url',
};

export const contentKindName = (code: ContentTypeCode): ContentView['content_type'] => KIND_NAMES[code];

/** The one serializer of contents: HTTP responses and WebSocket events send this. */
export function toContentView(row: ContentRow): ContentView {
  return {
    id: row.id,
    content_type: KIND_NAMES[row.content_type],
    text: row.text,
    url: row.url,
    file_name: row.file_name,
    size: row.size,
    mime_type: row.mime_type,
    sequence_number: row.sequence_number,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    author_id: row.author_id,
    author_name: row.author_name,
  };
}
