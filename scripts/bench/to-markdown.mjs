#!/usr/bin/env node
// Prints a results file (bench/results/latest.json by default) as the Markdown that
// docs/BENCHMARKS.md keeps under "Results": machine, plan, then one table row per figure.
// Usage: node scripts/bench/to-markdown.mjs [results.json]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = process.argv[2] ?? fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));
const result = JSON.parse(readFileSync(file, 'utf8'));
const { machine, plan } = result;

const fmt = (value) =>
  value === null || !Number.isFinite(value)
    ? '—'
    : Math.abs(value) >= 100
      ? value.toFixed(0)
      : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
const target = (t) =>
  !t
    ? ''
    : t.ratioAtLeast !== undefined
      ? `≥ ${t.ratioAtLeast} ×`
      : t.atMost !== undefined
        ? `≤ ${t.atMost}`
        : `≥ ${t.atLeast}`;

console.log(
  `Run of ${result.generated_at} (${result.mode}, ${plan.transferBytes / 1024 ** 2} MiB transfers × ${plan.rounds} rounds, ` +
    `${result.duration_seconds} s). Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memory_gib} GiB RAM, ` +
    `Node ${machine.node}, ${machine.platform}; load average at start ${machine.loadavg_at_start.join(' / ')}.`,
);
console.log('');
console.log('| What | Value | Unit | Baseline | Ratio | Target | Result |');
console.log('|---|---|---|---|---|---|---|');
for (const r of result.rows) {
  const value = r.unit === 'count' && r.value !== null ? String(r.value) : fmt(r.value);
  const ratio = r.ratio === null ? '—' : `${r.ratio.toFixed(3)} ×`;
  const met = r.met === null ? (r.target ? 'n/a' : '') : r.met ? 'met' : '**missed**';
  console.log(
    `| ${r.what} | ${value} | ${r.unit} | ${fmt(r.baseline)} | ${ratio} | ${target(r.target)} | ${met} |`,
  );
}
console.log('');
console.log(
  result.correctness_failures.length === 0
    ? 'Correctness checks: all passed (every byte, every message, every delivery).'
    : `Correctness failures: ${result.correctness_failures.join('; ')}`,
);
for (const [name, peer] of Object.entries(result.peers ?? {})) {
  if (!peer.ran) console.log(`\nPeer ${name} not measured: ${peer.reason}`);
}
