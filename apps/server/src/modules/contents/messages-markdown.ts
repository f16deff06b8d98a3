import { CONTENT_TYPE, type ContentRow } from '../../db/index.js';
import { toIso } from '../../lib/clock.js';

/** Markdown link text and URLs must not break out of `[...](...)`. */
const escapeText = (text: string) => text.replace(/([\\[\]*_`<>])/g, '\\$1');
const escapeUrl = (url: string) => url.replace(/[()\s<>]/g, (c) => encodeURIComponent(c));

/**
 * `messages.md` of a room export: its messages and links, oldest first, read page by page so
 * a long history never sits in memory at once.
 */
export async function* messagesMarkdown(
  roomName: string,
  pageAfter: (afterId: number) => Promise<ContentRow[]>,
): AsyncGenerator<string> {
  yield `# ${escapeText(roomName)}\n\n`;
  let afterId = 0;
  let any = false;
  for (;;) {
    const page = await pageAfter(afterId);
    if (page.length === 0) break;
    for (const row of page) {
      any = true;
      const when = toIso(row.created_at);
      // The author's display name as it is now (names are single-line, without controls).
      const by = row.author_name ? ` · ${escapeText(row.author_name)}` : '';
      if (row.content_type === CONTENT_TYPE.url) {
        const note = row.text ? ` — ${escapeText(row.text)}` : '';
        yield `## ${when}${by} · link\n\n[${escapeText(row.file_name ?? row.url ?? '')}](${escapeUrl(row.url ?? '')})${note}\n\n`;
      } else {
        yield `## ${when}${by}\n\n${row.text ?? ''}\n\n`;
      }
    }
    afterId = page[page.length - 1]!.id;
  }
  if (!any) yield '_No messages or links._\n';
}
