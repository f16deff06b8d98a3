/** Which keys hold secrets and how a secret is hidden when shown. */
export const REDACTED = '[REDACTED]';

/** Keys whose whole value is secret. */
export const SECRET_KEYS: readonly string[] = [
  'app.jwt.secret',
  'app.room.defaults.password',
  'app.storage.s3.access_key_id',
  'app.storage.s3.secret_access_key',
  'app.admin.token',
  'app.metrics.token',
];

/** URL keys whose credentials (userinfo, password-like query parameters) are secret. */
export const URL_SECRET_KEYS: readonly string[] = [
  'app.database.url',
  'app.realtime.redis_url',
  'app.middleware.rate_limit.redis_url',
];

const SECRET_QUERY_PARAMS = /^(password|pass|pwd|passwd|secret|token|sslpassword)$/i;

/**
 * Hides the userinfo of `scheme://user:pass@host/…` and password-like query parameters.
 * Works on text rather than `URL` so that malformed values (which appear in error messages)
 * are redacted too.
 */
export function redactUrl(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, `$1${REDACTED}@`);
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (whole, sep: string, name: string) =>
    SECRET_QUERY_PARAMS.test(name) ? `${sep}${name}=${REDACTED}` : whole,
  );
  return out;
}

/** A redacted stand-in for any value of `key`, for messages and reports. */
export function redactValue(key: string, value: unknown): unknown {
  if (SECRET_KEYS.includes(key)) {
    // An empty or absent secret is not a secret; showing it tells the operator it is unset.
    return typeof value === 'string' && value === '' ? '' : value === null ? null : REDACTED;
  }
  if (URL_SECRET_KEYS.includes(key) && typeof value === 'string') return redactUrl(value);
  return value;
}
