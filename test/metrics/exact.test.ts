// The values Prometheus scrapes are exactly the traffic reported: known events in, exact counter values,
// histogram bucket counts, sums and counts out (the hot path aggregates locally and prom-client reads the
// totals at scrape, so a lost, doubled or misplaced event shows here). Also: the label cap, byte-for-byte
// agreement with prom-client's own Histogram, and wiretrail_audit_batch_records fed by the audit ingester.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { report, createMetrics, MAX_LABEL_VALUES, LATENCY_BUCKETS, LocalHistogram } from '../../src/metrics/index.js';
import { openAuditLog } from '../../src/audit/index.js';

const sources = { checkpointAgeSeconds: () => null, leafCacheEntries: () => 0 };

/** Every sample of `name` (exact metric name) as label text → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^([a-z_]+)(\{[^}]*\})? (\S+)$/gm)) if (m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  return out;
}

t.test('known traffic gives exact counters, gauge and histogram buckets; a second scrape counts nothing twice', async (t) => {
  const m = createMetrics(sources);
  t.teardown(() => m.close());
  for (let i = 0; i < 7; i++) report.exchange('api.openai.com', 'intercept', 200);
  for (let i = 0; i < 3; i++) report.exchange('api.openai.com', 'intercept', 429);
  for (let i = 0; i < 2; i++) report.exchange('github.com', 'tunnel', 0);
  report.exchange('api.anthropic.com', 'deny', 403);
  for (let i = 0; i < 5; i++) report.masked('openai-api-key');
  report.masked('github-pat');
  report.policyDecision('intercept', 'openai');
  report.policyDecision('intercept', 'openai');
  report.policyDecision('tunnel', null);
  for (let i = 0; i < 4; i++) report.connection(1);
  report.connection(-1);
  report.approval('requested');
  report.approval('approved');
  // Values on bucket bounds belong to that bucket (le is inclusive); one above the last bound.
  const ttfb = [0.0001, 0.0005, 0.0006, 0.001, 0.003, 0.003, 0.2, 1, 29.9, 31];
  for (const v of ttfb) report.upstreamTtfb(v);
  report.upstreamTtfb(Number.NaN); // ignored, not a broken scrape
  for (const r of [1, 1, 3, 64, 65, 2000]) report.auditBatch(r);

  const text = (await m.scrape()).body;
  t.same(samples(text, 'wiretrail_requests_total'), new Map([
    ['{host="api.openai.com",decision="intercept",status="200"}', 7],
    ['{host="api.openai.com",decision="intercept",status="429"}', 3],
    ['{host="github.com",decision="tunnel",status="0"}', 2],
    ['{host="api.anthropic.com",decision="deny",status="403"}', 1],
  ]));
  t.same(samples(text, 'wiretrail_masked_secrets_total'), new Map([['{rule="openai-api-key"}', 5], ['{rule="github-pat"}', 1]]));
  t.same(samples(text, 'wiretrail_policy_decisions_total'), new Map([['{action="intercept",rule="openai"}', 2], ['{action="tunnel",rule=""}', 1]]));
  t.same(samples(text, 'wiretrail_approvals_total'), new Map([['{outcome="requested"}', 1], ['{outcome="approved"}', 1]]));
  t.same(samples(text, 'wiretrail_connections_open'), new Map([['', 3]]));

  const cumulative = (bounds: number[], values: number[]) => new Map<string, number>([
    ...bounds.map((b): [string, number] => [`{le="${b}"}`, values.filter((v) => v <= b).length]),
    ['{le="+Inf"}', values.length],
  ]);
  const buckets = samples(text, 'wiretrail_upstream_ttfb_seconds_bucket');
  t.same(buckets, cumulative(LATENCY_BUCKETS, ttfb));
  t.equal(buckets.get('{le="0.0005"}'), 2, 'a value on a bound counts in that bucket');
  t.equal(buckets.get('{le="30"}'), 9, 'a value above every bound only in +Inf');
  t.equal(samples(text, 'wiretrail_upstream_ttfb_seconds_count').get(''), 10);
  t.ok(Math.abs(samples(text, 'wiretrail_upstream_ttfb_seconds_sum').get('')! - ttfb.reduce((a, b) => a + b)) < 1e-9);
  t.same(samples(text, 'wiretrail_audit_batch_records_bucket').get('{le="64"}'), 4);
  t.same(samples(text, 'wiretrail_audit_batch_records_sum').get(''), 2134);
  t.same(samples(text, 'wiretrail_chunk_forward_seconds_count'), new Map([['', 0]]), 'nothing reported: zero, still exposed');

  const again = (await m.scrape()).body;
  t.same(samples(again, 'wiretrail_requests_total'), samples(text, 'wiretrail_requests_total'), 'a second scrape shows the same totals');
  t.same(samples(again, 'wiretrail_upstream_ttfb_seconds_bucket'), buckets);
  report.exchange('api.openai.com', 'intercept', 200);
  report.upstreamTtfb(0.0005);
  const third = (await m.scrape()).body;
  t.equal(samples(third, 'wiretrail_requests_total').get('{host="api.openai.com",decision="intercept",status="200"}'), 8, 'later events add to the totals');
  t.equal(samples(third, 'wiretrail_upstream_ttfb_seconds_bucket').get('{le="0.0005"}'), 3);
});

t.test('a label keeps at most MAX_LABEL_VALUES values; the rest count under "other", none lost', async (t) => {
  const m = createMetrics(sources);
  t.teardown(() => m.close());
  for (let i = 0; i < MAX_LABEL_VALUES + 25; i++) report.exchange(`h${i}.example`, 'tunnel', 0);
  report.exchange('h0.example', 'tunnel', 0);
  report.exchange('late.example', 'tunnel', 0);
  const got = samples((await m.scrape()).body, 'wiretrail_requests_total');
  t.equal(got.size, MAX_LABEL_VALUES + 1);
  t.equal(got.get('{host="other",decision="tunnel",status="0"}'), 26);
  t.equal(got.get('{host="h0.example",decision="tunnel",status="0"}'), 2, 'values seen before the cap keep their own series');
  t.equal([...got.values()].reduce((a, b) => a + b), MAX_LABEL_VALUES + 27, 'every event counted');
});

t.test('the local histogram writes exactly what prom-client\'s Histogram writes for the same values', async (t) => {
  const ours = new Registry();
  const theirs = new Registry();
  const local = new LocalHistogram(ours, 'x_seconds', 'help text', LATENCY_BUCKETS);
  const ref = new Histogram({ name: 'x_seconds', help: 'help text', buckets: LATENCY_BUCKETS, registers: [theirs] });
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const v = i % 50 === 0 ? LATENCY_BUCKETS[i % LATENCY_BUCKETS.length]! : (seed / 2 ** 31) * 40;
    local.observe(v);
    ref.observe(v);
  }
  t.equal(await ours.metrics(), await theirs.metrics());
  const flat = async (r: Registry) => (await r.getMetricsAsJSON())[0]!.values.map((v) => [(v as { metricName?: string }).metricName, v.labels, v.value]);
  t.same(await flat(ours), await flat(theirs));
});

t.test('wiretrail_audit_batch_records is fed by the audit ingester: its sum is every record stored', async (t) => {
  const m = createMetrics(sources);
  t.teardown(() => m.close());
  const root = mkdtempSync(join(tmpdir(), 'wt-batch-metric-'));
  const log = await openAuditLog({ dataDir: join(root, 'data'), certsDir: join(root, 'certs'), logger: pino({ level: 'silent' }) });
  let records = 0;
  for (let s = 0; s < 5; s++) {
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) appends.push(log.append({ session: `s${s}`, kind: 'request', meta: { i } }));
    await Promise.all(appends);
    await log.endSession(`s${s}`);
    records += 21;
  }
  await log.close();
  const text = (await m.scrape()).body;
  t.equal(samples(text, 'wiretrail_audit_batch_records_sum').get(''), records, 'every record went through a counted batch, once');
  const count = samples(text, 'wiretrail_audit_batch_records_count').get('')!;
  t.ok(count >= 1 && count <= records, `${count} batches`);
  t.equal(samples(text, 'wiretrail_audit_batch_records_bucket').get('{le="+Inf"}'), count);
});
