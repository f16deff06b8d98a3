/** Links in messages: only absolute http(s) and mailto, plus in-app file references. */
const CONTENT_REF = /^\/contents\/(\d+)$/;

export function contentRefId(url: string | undefined | null): number | undefined {
  const match = url ? CONTENT_REF.exec(url) : null;
  return match ? Number(match[1]) : undefined;
}

export function safeMessageUrl(url: string): string {
  const value = url.trim();
  if (CONTENT_REF.test(value)) return value;
  if (/[\u0000-\u001f\u007f]/.test(value)) return '';
  try {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'mailto:')
      return parsed.href;
  } catch {
    // relative or malformed: not a link
  }
  return '';
}

/** For saved links: absolute http(s) only. */
export function isHttpUrl(value: string): boolean {
  try {
    const parsed = new URL(value.trim());
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !!parsed.hostname;
  } catch {
    return false;
  }
}

/** Accepts `example.com/x` as `https://example.com/x`; returns '' when not an http(s) URL. */
export function normalizeHttpUrl(value: string): string {
  const trimmed = value.trim();
  if (!trimmed) return '';
  const candidate = /^[a-z][a-z0-9+.-]*:/i.test(trimmed) ? trimmed : `https://${trimmed}`;
  return isHttpUrl(candidate) ? new URL(candidate).href : '';
}
