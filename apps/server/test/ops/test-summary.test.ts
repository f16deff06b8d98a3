/**
 * scripts/test-summary.mjs prints the closing line `.ci/run` shows: a failing test counts once,
 * not again for its file and its describe blocks; a file that failed outside its tests counts too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ROOT } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'test-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summary(report: unknown) {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(report));
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/test-summary.mjs'), file], {
    encoding: 'utf8',
  });
  return { line: result.stdout.trim(), status: result.status };
}

const passing = { status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'passed' }] };

describe('scripts/test-summary.mjs', () => {
  it('counts one failing test once, though its file and describe block failed too', () => {
    const out = summary({
      numPassedTests: 3,
      numFailedTests: 1,
      numFailedTestSuites: 2,
      numPendingTests: 1,
      testResults: [
        passing,
        { status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }] },
      ],
    });
    expect(out).toEqual({ line: 'Tests: 3 passed, 1 failed, 1 skipped', status: 1 });
  });

  it('counts a file that failed outside its tests', () => {
    const out = summary({
      numPassedTests: 2,
      numFailedTests: 0,
      numFailedTestSuites: 1,
      testResults: [passing, { status: 'failed', assertionResults: [] }],
    });
    expect(out.status).toBe(1);
    expect(out.line).toBe(
      'Tests: 2 passed, 1 failed (1 of them a test file that failed outside its tests), 0 skipped',
    );
  });

  it('passes a clean report, and fails a missing one or one that ran nothing', () => {
    expect(summary({ numPassedTests: 2, numFailedTests: 0, testResults: [passing] })).toEqual({
      line: 'Tests: 2 passed, 0 failed, 0 skipped',
      status: 0,
    });
    expect(summary({ numPassedTests: 0, numFailedTests: 0, testResults: [] }).status).toBe(1);
    const missing = spawnSync(
      process.execPath,
      [join(ROOT, 'scripts/test-summary.mjs'), join(dir, 'none.json')],
      {
        encoding: 'utf8',
      },
    );
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('no test report was written');
  });
});
