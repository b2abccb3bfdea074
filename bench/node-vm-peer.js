// The peer the design proposes: Node's `vm` module, a new context per call with a timeout
// (`vm.createContext` + `new vm.Script` + `runInContext({ timeout })`). Runs the same small
// capability action as crates/core/benches/sandbox.rs and prints the same figures as JSON.
//
//   node bench/node-vm-peer.js [calls]
"use strict";
const vm = require("node:vm");

const calls = Number(process.argv[2] || 1000);
const source = `
const capability = {
  id: "bench",
  actions: {
    add({ a, b }) { return { sum: a + b, mean: this.utils.mean([a, b]) }; },
  },
};
const utils = { mean: (xs) => xs.reduce((s, x) => s + x, 0) / xs.length };
`;

let peakRss = process.memoryUsage().rss;
function once(i) {
  const t = process.hrtime.bigint();
  const sandbox = { input: JSON.stringify({ a: i, b: 2 }), output: null };
  const ctx = vm.createContext(sandbox);
  const script = new vm.Script(source + `
    const self = Object.assign(Object.create(null), capability.actions, { utils });
    output = JSON.stringify(capability.actions.add.call(self, JSON.parse(input)));
  `);
  script.runInContext(ctx, { timeout: 1000 });
  JSON.parse(sandbox.output);
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
  return Number(process.hrtime.bigint() - t) / 1e6;
}

// Warm up, then measure.
for (let i = 0; i < 50; i++) once(i);
const start = process.hrtime.bigint();
const lat = [];
for (let i = 0; i < calls; i++) lat.push(once(i));
const total = Number(process.hrtime.bigint() - start) / 1e9;
lat.sort((x, y) => x - y);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(JSON.stringify({
  peer: "node-vm (new context per call, timeout)",
  node: process.version,
  calls,
  p50_ms: +pct(0.5).toFixed(4),
  p99_ms: +pct(0.99).toFixed(4),
  calls_per_s: Math.round(calls / total),
  peak_rss_mb: +(peakRss / 1048576).toFixed(1),
}));
