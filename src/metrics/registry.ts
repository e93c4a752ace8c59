// The Prometheus metrics (prom-client), fed by the diagnostics channels in events.ts and by gauges read at
// scrape time. One registry per running wiretrail; channels are process-wide, so two wiretrails in one
// process would count each other's events (production runs one per process).
import dc from 'node:diagnostics_channel';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import { LocalCounter, LocalGauge, LocalHistogram } from './local.js';
import { CHANNELS, type ExchangeEvent } from './events.js';

/** Distinct values one label keeps (per value of the labels before it) before new ones fold into "other" (tunnelled hosts are unbounded). */
export const MAX_LABEL_VALUES = 200;

/** Values read when Prometheus scrapes. */
export interface MetricSources {
  /** Seconds since the latest signed checkpoint, or null before the first. */
  checkpointAgeSeconds(): number | null;
  /** Leaf certificates / TLS contexts in the CA's cache. */
  leafCacheEntries(): number;
}

export interface Metrics {
  readonly registry: Registry;
  /** The exposition text and its content type. */
  scrape(): Promise<{ body: string; contentType: string }>;
  /** Stops listening on the channels and the default collectors. */
  close(): void;
}

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // Every hot-path metric aggregates locally (local.ts); prom-client reads the totals when scraped.
  const requests = new LocalCounter(registry, 'wiretrail_requests_total', 'Exchanges finished, by host, policy decision and status sent to the client.', ['host', 'decision', 'status'], MAX_LABEL_VALUES);
  const open = new LocalGauge(registry, 'wiretrail_connections_open', 'Client connections open now.');
  const masked = new LocalCounter(registry, 'wiretrail_masked_secrets_total', 'Secrets masked, by rule.', ['rule'], MAX_LABEL_VALUES);
  const ttfb = new LocalHistogram(registry, 'wiretrail_upstream_ttfb_seconds', 'Upstream time to the first response byte.', LATENCY_BUCKETS);
  const chunk = new LocalHistogram(registry, 'wiretrail_chunk_forward_seconds', 'Time a response chunk spends in wiretrail (parse, mask, record) before it is forwarded.', LATENCY_BUCKETS);
  const append = new LocalHistogram(registry, 'wiretrail_audit_append_seconds', 'Audit append latency, call to durable commit.', LATENCY_BUCKETS);
  const batch = new LocalHistogram(registry, 'wiretrail_audit_batch_records', 'Records per audit store batch (the ingester moves records from the segments into LevelDB in batches).', BATCH_BUCKETS);
  const decisions = new LocalCounter(registry, 'wiretrail_policy_decisions_total', 'Policy decisions, by action and the rule that decided.', ['action', 'rule'], MAX_LABEL_VALUES);
  const approvals = new LocalCounter(registry, 'wiretrail_approvals_total', 'Approval state changes, by outcome.', ['outcome'], MAX_LABEL_VALUES);
  new Gauge({
    name: 'wiretrail_checkpoint_age_seconds',
    help: 'Seconds since the latest signed checkpoint (absent before the first).',
    registers: [registry],
    collect() {
      const age = sources.checkpointAgeSeconds();
      if (age === null) this.reset();
      else this.set(age);
    },
  });
  new Gauge({ name: 'wiretrail_leaf_cache_entries', help: 'Leaf certificates cached by the CA.', registers: [registry], collect() { this.set(sources.leafCacheEntries()); } });

  const handlers: [string, (m: unknown) => void][] = [
    [CHANNELS.exchange, (m) => {
      const e = m as ExchangeEvent;
      requests.inc(e.host, e.decision, e.status);
    }],
    [CHANNELS.connection, (m) => (open.value += (m as { delta: number }).delta)],
    [CHANNELS.masked, (m) => masked.inc((m as { rule: string }).rule)],
    [CHANNELS.upstreamTtfb, (m) => ttfb.observe((m as { seconds: number }).seconds)],
    [CHANNELS.chunkForward, (m) => chunk.observe((m as { seconds: number }).seconds)],
    [CHANNELS.auditAppend, (m) => append.observe((m as { seconds: number }).seconds)],
    [CHANNELS.auditBatch, (m) => batch.observe((m as { records: number }).records)],
    [CHANNELS.policyDecision, (m) => decisions.inc((m as { action: string }).action, (m as { rule: string }).rule)],
    [CHANNELS.approval, (m) => approvals.inc((m as { outcome: string }).outcome)],
  ];
  for (const [name, fn] of handlers) dc.subscribe(name, fn);

  return {
    registry,
    async scrape() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
    close() {
      for (const [name, fn] of handlers) dc.unsubscribe(name, fn);
      registry.clear();
    },
  };
}
