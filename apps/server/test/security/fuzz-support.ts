import { ErrorEnvelope } from '@elizabeth/protocol';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/**
 * Fuzzing knobs: CI runs a fixed seed with few runs per route; `ELIZABETH_FUZZ_RUNS=2000`
 * (and optionally `ELIZABETH_FUZZ_SEED`) is the long local mode.
 */
export const FUZZ_RUNS = Number(process.env.ELIZABETH_FUZZ_RUNS ?? 30);
export const FUZZ_SEED = Number(process.env.ELIZABETH_FUZZ_SEED ?? 20261128);

export const fuzzParameters = (runs = FUZZ_RUNS): fc.Parameters<unknown> => ({
  numRuns: runs,
  seed: FUZZ_SEED,
  endOnFailure: true,
  interruptAfterTimeLimit: Number(process.env.ELIZABETH_FUZZ_TIME_LIMIT_MS ?? 0) || undefined,
});

/** Never a 5xx; every 4xx has the envelope whose status matches (HEAD has no body). */
export function expectNoServerError(res: LightMyRequestResponse, method: string, what: string): void {
  expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400 && method !== 'HEAD') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = undefined;
    }
    const envelope = ErrorEnvelope.safeParse(parsed);
    expect(envelope.success, `${what} → ${res.statusCode} not an envelope: ${res.body.slice(0, 300)}`).toBe(
      true,
    );
    expect(envelope.data?.error.status, what).toBe(res.statusCode);
  }
}

/** Strings an attacker tries first, percent-encoded or raw as a client would send them. */
export const HOSTILE_SEGMENTS = [
  '..',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '%ff%fe',
  '%00',
  '%',
  '%zz',
  '%E2%80%AE',
  'a'.repeat(2000),
  '%3Cscript%3E',
  '0',
  '-1',
  '1e309',
  '9007199254740993',
  '99999999999999999999999',
  'NaN',
  'null',
  '__proto__',
  'constructor',
  '%20',
  '0x10',
  '1.5',
];

const unicodeText = fc.string({ unit: 'grapheme', maxLength: 80 });
const binaryText = fc.string({ unit: 'binary', maxLength: 80 });

/** One path segment: hostile constants, random strings (encoded) or numbers. */
export const segmentArb = (valid: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    { weight: 2, arbitrary: fc.oneof(unicodeText, binaryText).map((s) => encodeURIComponent(s) || 'x') },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
  );

/** A scalar value as a query string carries it. */
export const queryValueArb = (valid: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...valid, 'true', 'false', '', '0', '-1', '101', '1e309', 'a,b,,c', '%', '..'),
    unicodeText,
    fc.integer().map(String),
  );

/** Any JSON value, with the boundary numbers and strings validation forgets. */
export const jsonLeafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0,
    2 ** 31,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    1e308,
    '',
    ' ',
    '\u0000',
    '\ud800',
    'a'.repeat(5000),
    'javascript:alert(1)',
    'http://',
    'https://example.com/' + 'x'.repeat(3000),
  ),
  fc.string({ maxLength: 40 }),
  unicodeText,
  fc.integer(),
  fc.double({ noNaN: true }),
);

export const jsonValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: jsonLeafArb },
  { weight: 1, arbitrary: fc.array(jsonLeafArb, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), jsonLeafArb, { maxKeys: 4 }) },
);

/** A JSON body shaped like the route's schema (its keys with random values) or not at all. */
export function bodyArb(keys: string[], valid: Record<string, unknown[]>): fc.Arbitrary<string | Buffer> {
  const shaped = fc
    .array(
      fc.tuple(
        fc.constantFrom(...(keys.length ? keys : ['x']), '__proto__', 'constructor', 'extra'),
        fc.oneof({ weight: 2, arbitrary: jsonValueArb }, { weight: 1, arbitrary: validValue(valid) }),
      ),
      { maxLength: keys.length + 2 },
    )
    .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  return fc.oneof(
    { weight: 5, arbitrary: shaped },
    { weight: 1, arbitrary: jsonValueArb.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', '{', '{"a":', '[', 'nul', '{"a":1}}', '\u0000', '{"a":1e99999}'),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  );
}

function validValue(valid: Record<string, unknown[]>): fc.Arbitrary<unknown> {
  const all = Object.values(valid).flat();
  return all.length ? fc.constantFrom(...all) : jsonLeafArb;
}

export const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'application/offset+octet-stream',
      'application/octet-stream',
      '*/*',
      ';;;',
      'application/json; charset=utf-8',
    ),
  },
);
