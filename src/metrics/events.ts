// The narrow interface through which stages report to the metrics module: named diagnostics_channel
// channels (as pino and undici do). Publishing costs one `hasSubscribers` check when nobody listens, and
// stages never import prom-client. Each helper takes plain values so call sites stay one line.
import dc from 'node:diagnostics_channel';

export const CHANNELS = {
  /** An exchange (request/response) finished: { host, decision, status }. */
  exchange: 'wiretrail:exchange',
  /** A client connection opened (+1) or closed (-1): { delta }. */
  connection: 'wiretrail:connection',
  /** A secret was masked by a rule: { rule }. */
  masked: 'wiretrail:masked',
  /** Upstream time to first response byte: { seconds }. */
  upstreamTtfb: 'wiretrail:upstream-ttfb',
  /** Time one response chunk spent between upstream and client (parse, mask, record): { seconds }. */
  chunkForward: 'wiretrail:chunk-forward',
  /** One audit append, from call to commit: { seconds }. */
  auditAppend: 'wiretrail:audit-append',
  /** One audit group commit: { records }. */
  auditBatch: 'wiretrail:audit-batch',
  /** A policy decision for a connection or request: { action, rule }. */
  policyDecision: 'wiretrail:policy-decision',
  /** An approval changed state: { outcome } (requested, approved, denied, expired). */
  approval: 'wiretrail:approval',
} as const;

export interface ExchangeEvent {
  host: string;
  decision: string;
  /** HTTP status sent to the client, or 0 when none was (tunnel, client gone). */
  status: number;
}

const ch = {
  exchange: dc.channel(CHANNELS.exchange),
  connection: dc.channel(CHANNELS.connection),
  masked: dc.channel(CHANNELS.masked),
  upstreamTtfb: dc.channel(CHANNELS.upstreamTtfb),
  chunkForward: dc.channel(CHANNELS.chunkForward),
  auditAppend: dc.channel(CHANNELS.auditAppend),
  auditBatch: dc.channel(CHANNELS.auditBatch),
  policyDecision: dc.channel(CHANNELS.policyDecision),
  approval: dc.channel(CHANNELS.approval),
};

/** Report helpers for the stages: no allocation unless a subscriber (the metrics module) listens. */
export const report = {
  exchange(host: string, decision: string, status: number): void {
    if (ch.exchange.hasSubscribers) ch.exchange.publish({ host, decision, status } satisfies ExchangeEvent);
  },
  connection(delta: 1 | -1): void {
    if (ch.connection.hasSubscribers) ch.connection.publish({ delta });
  },
  masked(rule: string): void {
    if (ch.masked.hasSubscribers) ch.masked.publish({ rule });
  },
  upstreamTtfb(seconds: number): void {
    if (ch.upstreamTtfb.hasSubscribers) ch.upstreamTtfb.publish({ seconds });
  },
  chunkForward(seconds: number): void {
    if (ch.chunkForward.hasSubscribers) ch.chunkForward.publish({ seconds });
  },
  auditAppend(seconds: number): void {
    if (ch.auditAppend.hasSubscribers) ch.auditAppend.publish({ seconds });
  },
  auditBatch(records: number): void {
    if (ch.auditBatch.hasSubscribers) ch.auditBatch.publish({ records });
  },
  policyDecision(action: string, rule: string | null): void {
    if (ch.policyDecision.hasSubscribers) ch.policyDecision.publish({ action, rule: rule ?? '' });
  },
  approval(outcome: string): void {
    if (ch.approval.hasSubscribers) ch.approval.publish({ outcome });
  },
};

/** Seconds since `start` (a process.hrtime.bigint() reading), for the *Seconds reports. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
