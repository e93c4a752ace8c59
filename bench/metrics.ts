// Metrics hot-path cost (issue 14: ≤ 1 µs per event): `npx tsx bench/metrics.ts [N]`.
// Times the report helpers the proxy and audit stages call (src/metrics/events.ts) with the metrics module
// subscribed (prom-client counters/histograms behind diagnostics_channel), and with no subscriber.
import { performance } from 'node:perf_hooks';
import { report, createMetrics } from '../src/metrics/index.js';

const n = Number(process.argv[2] ?? 1_000_000);
const hosts = ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'github.com'];

function time(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) fn(i); // warm up (JIT, label children)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / n;
  console.log(`${label.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/event`);
  return ns;
}

const events: [string, (i: number) => void][] = [
  ['exchange (requests_total{host,decision,status})', (i) => report.exchange(hosts[i & 3]!, 'intercept', 200)],
  ['chunkForward (histogram)', (i) => report.chunkForward((i & 1023) / 1e6)],
  ['upstreamTtfb (histogram)', (i) => report.upstreamTtfb((i & 1023) / 1e4)],
  ['masked (masked_secrets_total{rule})', (i) => report.masked(i & 1 ? 'openai-api-key' : 'github-pat')],
  ['connection (gauge)', (i) => report.connection(i & 1 ? 1 : -1)],
  ['auditAppend (histogram)', (i) => report.auditAppend((i & 1023) / 1e5)],
];

console.log(`# ${n} events each, no subscriber`);
for (const [label, fn] of events) time(label, fn);
const metrics = createMetrics({ checkpointAgeSeconds: () => 1, leafCacheEntries: () => 1 });
console.log(`# ${n} events each, metrics subscribed (target ≤ 1000 ns)`);
let worst = 0;
for (const [label, fn] of events) worst = Math.max(worst, time(label, fn));
const text = (await metrics.scrape()).body;
if (!/wiretrail_requests_total\{host="api.openai.com",decision="intercept",status="200"\} \d+/.test(text)) throw new Error('the events did not reach the metrics');
console.log(`worst: ${worst.toFixed(0)} ns/event ${worst <= 1000 ? '(meets ≤ 1 µs)' : '(MISSES ≤ 1 µs)'}`);
metrics.close();
