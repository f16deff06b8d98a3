/**
 * Test policy for suites that need an outside service (PostgreSQL, Redis, S3, Chromium):
 * locally they are skipped with a printed reason; under CI (`CI=true`) a missing service
 * fails the run, so CI can never pass by skipping.
 */
import { describe, it } from 'vitest';

export const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

export interface ServiceAvailability {
  available: boolean;
  /** Why the service is missing, printed when the suite is skipped. */
  reason?: string;
}

/**
 * `describe` when the service is there; otherwise a skipped suite with the reason printed,
 * or, under CI, a suite that fails with that reason.
 */
export function describeWithService(
  service: string,
  availability: ServiceAvailability,
  title: string,
  body: () => void,
): void {
  if (availability.available) {
    describe(title, body);
    return;
  }
  const reason = `${service} unavailable: ${availability.reason ?? 'not configured'}`;
  if (inCI) {
    describe(title, () => {
      it(`requires ${service}`, () => {
        throw new Error(`${reason} (CI=true: service suites may not be skipped)`);
      });
    });
    return;
  }
  console.warn(`[skip] ${title}: ${reason}`);
  describe.skip(`${title} [skipped: ${reason}]`, body);
}
