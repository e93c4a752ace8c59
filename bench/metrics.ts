// Metrics hot-path cost (issue 14: ≤ 1 µs per event): `npx tsx bench/metrics.ts [N]`.
// Times the report helpers the proxy and audit stages call (src/metrics/events.ts) with no subscriber and with
// the metrics module subscribed (diagnostics_channel → the local aggregators of src/metrics/local.ts, read by
// prom-client at scrape), and prints the worst figure per metric kind.
import { performance } from 'node:perf_hooks';
import { report, createMetrics } from '../src/metrics/index.js';

const n = Number(process.argv[2] ?? 1_000_000);
const hosts = ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'github.com'];
const statuses = [200, 200, 429, 502];

type Kind = 'labelled counter' | 'gauge' | 'histogram';

function time(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) fn(i); // warm up (JIT, label values)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / n;
  console.log(`  ${label.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns/event`);
  return ns;
}

const events: [Kind, string, (i: number) => void][] = [
  ['labelled counter', 'exchange (requests_total{host,decision,status})', (i) => report.exchange(hosts[i & 3]!, 'intercept', statuses[(i >> 2) & 3]!)],
  ['labelled counter', 'masked (masked_secrets_total{rule})', (i) => report.masked(i & 1 ? 'openai-api-key' : 'github-pat')],
  ['labelled counter', 'policyDecision (policy_decisions_total{action,rule})', (i) => report.policyDecision(i & 1 ? 'intercept' : 'tunnel', i & 2 ? 'openai' : null)],
  ['gauge', 'connection (connections_open)', (i) => report.connection(i & 1 ? 1 : -1)],
  ['histogram', 'chunkForward (chunk_forward_seconds)', (i) => report.chunkForward((i & 1023) / 1e6)],
  ['histogram', 'upstreamTtfb (upstream_ttfb_seconds)', (i) => report.upstreamTtfb((i & 1023) / 1e4)],
  ['histogram', 'auditAppend (audit_append_seconds)', (i) => report.auditAppend((i & 1023) / 1e5)],
  ['histogram', 'auditBatch (audit_batch_records)', (i) => report.auditBatch(1 + (i & 511))],
];

console.log(`# ${n} events each, no subscriber`);
for (const [, label, fn] of events) time(label, fn);
const metrics = createMetrics({ checkpointAgeSeconds: () => 1, leafCacheEntries: () => 1 });
console.log(`# ${n} events each, metrics subscribed (target ≤ 1000 ns)`);
const worst = new Map<Kind, number>();
for (const [kind, label, fn] of events) worst.set(kind, Math.max(worst.get(kind) ?? 0, time(label, fn)));
const t0 = performance.now();
const text = (await metrics.scrape()).body;
const scrapeMs = performance.now() - t0;
if (!/^wiretrail_requests_total\{host="api.openai.com",decision="intercept",status="200"\} \d+$/m.test(text)) throw new Error('the events did not reach the metrics');
if (!/^wiretrail_audit_batch_records_count \d+$/m.test(text)) throw new Error('the batch histogram did not reach the metrics');
console.log(`# per metric kind (worst event of the kind), metrics subscribed`);
for (const [kind, ns] of worst) console.log(`  ${kind.padEnd(20)} ${ns.toFixed(0).padStart(6)} ns/event ${ns <= 1000 ? '(meets ≤ 1 µs)' : '(MISSES ≤ 1 µs)'}`);
console.log(`scrape (collect + exposition): ${scrapeMs.toFixed(1)} ms`);
metrics.close();
