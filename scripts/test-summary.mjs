#!/usr/bin/env node
// Prints Vitest's JSON report as one closing line: "Tests: N passed, N failed, N skipped".
// Exits non-zero when the report is missing, shows a failure, or ran no test at all.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-artifacts/vitest.json';
if (!existsSync(file)) {
  console.log('Tests: 0 passed, 1 failed (no test report was written)');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failedTests = report.numFailedTests ?? 0;
// A file that failed without a failing test (an import error, a failing hook) counts once; a
// failing test is not counted again for its file and its describe blocks.
const brokenFiles = (report.testResults ?? []).filter(
  (file) =>
    file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
).length;
const failed = failedTests + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const broken = brokenFiles > 0 ? ` (${brokenFiles} of them a test file that failed outside its tests)` : '';
console.log(`Tests: ${passed} passed, ${failed} failed${broken}, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
