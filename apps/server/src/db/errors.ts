/**
 * Classifies driver errors without depending on driver classes, so the same checks work for
 * better-sqlite3 (`code: 'SQLITE_…'`), pg (`code`: SQLSTATE) and Node's socket errors. Wrapped
 * errors are followed through `cause` and `AggregateError.errors` (Node's dual-stack connect
 * reports one failure per address).
 */

function* errorChain(err: unknown, depth = 0): Generator<{ code?: unknown; message?: unknown }> {
  if (depth > 8 || typeof err !== 'object' || err === null) return;
  yield err;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) yield* errorChain(inner, depth + 1);
  }
  if ('cause' in err) yield* errorChain(err.cause, depth + 1);
}

function someCode(err: unknown, test: (code: string) => boolean): boolean {
  for (const e of errorChain(err)) {
    if (typeof e.code === 'string' && test(e.code)) return true;
  }
  return false;
}

export function isUniqueViolation(err: unknown): boolean {
  return someCode(
    err,
    (code) =>
      code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505',
  );
}

export function isForeignKeyViolation(err: unknown): boolean {
  return someCode(err, (code) => code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503');
}

export function isCheckViolation(err: unknown): boolean {
  return someCode(err, (code) => code === 'SQLITE_CONSTRAINT_CHECK' || code === '23514');
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** SQLSTATEs meaning "the server cannot serve you right now", not "your query is wrong". */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);

/** pg reports a lost or never-made connection by message only. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i;

/**
 * True when the database could not be reached or is busy, i.e. the request may succeed if
 * retried shortly; the HTTP layer answers 503 instead of 500.
 */
export function isConnectionError(err: unknown): boolean {
  for (const e of errorChain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined) {
      if (NETWORK_CODES.has(code) || PG_UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_CANTOPEN')) return true;
    } else if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) {
      return true;
    }
  }
  return false;
}
