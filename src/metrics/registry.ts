// The Prometheus metrics (prom-client), fed by the diagnostics channels in events.ts and by gauges read at
// scrape time. One registry per running wiretrail; channels are process-wide, so two wiretrails in one
// process would count each other's events (production runs one per process).
import dc from 'node:diagnostics_channel';
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import { CHANNELS, type ExchangeEvent } from './events.js';

/** Distinct label values kept per label before new ones are folded into "other" (tunnelled hosts are unbounded). */
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

/** Caps the distinct values one label may take. */
function boundedLabel(max: number): (v: string) => string {
  const seen = new Set<string>();
  return (v) => {
    if (seen.has(v)) return v;
    if (seen.size >= max) return 'other';
    seen.add(v);
    return v;
  };
}

/**
 * A labelled counter whose hot path is a Map increment: prom-client hashes the label object on every
 * inc(), which alone costs about a microsecond; the sums move into prom-client when Prometheus scrapes.
 */
function fastCounter(registry: Registry, name: string, help: string, labelNames: string[]): (...values: string[]) => void {
  const pending = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [key, n] of pending) {
        const values = key.split('\u0000');
        this.inc(Object.fromEntries(labelNames.map((l, i) => [l, values[i]!])), n);
      }
      pending.clear();
    },
  });
  return (...values) => {
    const key = values.join('\u0000');
    pending.set(key, (pending.get(key) ?? 0) + 1);
  };
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const requests = fastCounter(registry, 'wiretrail_requests_total', 'Exchanges finished, by host, policy decision and status sent to the client.', ['host', 'decision', 'status']);
  const open = new Gauge({ name: 'wiretrail_connections_open', help: 'Client connections open now.', registers: [registry] });
  const masked = fastCounter(registry, 'wiretrail_masked_secrets_total', 'Secrets masked, by rule.', ['rule']);
  const ttfb = new Histogram({ name: 'wiretrail_upstream_ttfb_seconds', help: 'Upstream time to the first response byte.', buckets: LATENCY_BUCKETS, registers: [registry] });
  const chunk = new Histogram({ name: 'wiretrail_chunk_forward_seconds', help: 'Time a response chunk spends in wiretrail (parse, mask, record) before it is forwarded.', buckets: LATENCY_BUCKETS, registers: [registry] });
  const append = new Histogram({ name: 'wiretrail_audit_append_seconds', help: 'Audit append latency, call to durable commit.', buckets: LATENCY_BUCKETS, registers: [registry] });
  const batch = new Histogram({ name: 'wiretrail_audit_batch_records', help: 'Records per audit group commit.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [registry] });
  const decisions = fastCounter(registry, 'wiretrail_policy_decisions_total', 'Policy decisions, by action and the rule that decided.', ['action', 'rule']);
  const approvals = new Counter({ name: 'wiretrail_approvals_total', help: 'Approval state changes, by outcome.', labelNames: ['outcome'], registers: [registry] });
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

  const host = boundedLabel(MAX_LABEL_VALUES);
  const rule = boundedLabel(MAX_LABEL_VALUES);
  const handlers: [string, (m: unknown) => void][] = [
    [CHANNELS.exchange, (m) => {
      const e = m as ExchangeEvent;
      requests(host(e.host), e.decision, String(e.status));
    }],
    [CHANNELS.connection, (m) => open.inc((m as { delta: number }).delta)],
    [CHANNELS.masked, (m) => masked(rule((m as { rule: string }).rule))],
    [CHANNELS.upstreamTtfb, (m) => ttfb.observe((m as { seconds: number }).seconds)],
    [CHANNELS.chunkForward, (m) => chunk.observe((m as { seconds: number }).seconds)],
    [CHANNELS.auditAppend, (m) => append.observe((m as { seconds: number }).seconds)],
    [CHANNELS.auditBatch, (m) => batch.observe((m as { records: number }).records)],
    [CHANNELS.policyDecision, (m) => decisions((m as { action: string }).action, rule((m as { rule: string }).rule))],
    [CHANNELS.approval, (m) => approvals.labels((m as { outcome: string }).outcome).inc()],
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
