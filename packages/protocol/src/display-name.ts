/**
 * Display names of sessions ("who said what", API.md §2): optional, at most
 * `DISPLAY_NAME_MAX_LENGTH` characters (code points) after normalisation. Leading and trailing
 * white space is trimmed and inner runs of white space become one space; control characters,
 * line and paragraph separators and bidirectional formatting characters (which could reorder
 * the text around a name) are refused, not silently dropped. An empty name means "no name".
 */
export const DISPLAY_NAME_MAX_LENGTH = 40;

export type DisplayNameProblem = 'too_long' | 'invalid_characters';

/** C0/C1 controls, U+2028/2029, and the bidi marks, embeddings, overrides and isolates. */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export const DISPLAY_NAME_MESSAGES: Record<DisplayNameProblem, string> = {
  too_long: `Display names have at most ${DISPLAY_NAME_MAX_LENGTH} characters`,
  invalid_characters:
    'Display names may not contain control characters, line separators or bidirectional formatting characters',
};

/**
 * The name as stored (NFC, trimmed, inner white space collapsed; null when empty), or the
 * problem that makes it unacceptable.
 */
export function normalizeDisplayName(
  raw: string | null | undefined,
): { name: string | null } | { problem: DisplayNameProblem } {
  if (raw === null || raw === undefined) return { name: null };
  if (FORBIDDEN.test(raw.replace(/[\t\n\r]/g, ' '))) return { problem: 'invalid_characters' };
  const name = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if ([...name].length > DISPLAY_NAME_MAX_LENGTH) return { problem: 'too_long' };
  return { name: name === '' ? null : name };
}
