#!/usr/bin/env node
// The benchmark harness lands with its own issue; until then this says so instead of pretending.
console.log('No benchmarks are defined yet: `npm run bench` arrives with the benchmarks issue.');
