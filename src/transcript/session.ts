// A session's records grouped into exchanges (by the exchange number meta.n the proxy writes) and
// folded into the facts an auditor filters on.
import type { SessionSummary, StoredRecord } from '../audit/index.js';
import { agentFromUserAgent } from './agent.js';
import { reassembleAnswer, framingOf, type RecordedChunk } from './answer.js';
import { promptTurns, requestModel, requestStreams } from './prompt.js';
import type { Exchange, SessionFacts } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function headerMap(v: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string' || Array.isArray(val)) out[k] = val as string | string[];
  return out;
}

function firstHeader(h: Record<string, string | string[]>, name: string): string | null {
  const v = h[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

const text = (r: StoredRecord | undefined): string => (r?.body ? r.body.toString('utf8') : '');

/** Builds one exchange from its records (request, response-head, chunks, response-end/error/deny). */
function buildExchange(n: number, recs: StoredRecord[]): Exchange {
  const req = recs.find((r) => r.kind === 'request');
  const head = recs.find((r) => r.kind === 'response-head');
  const end = recs.find((r) => r.kind === 'response-end');
  const deny = recs.find((r) => r.kind === 'deny');
  const err = recs.find((r) => r.kind === 'error');
  const m = req?.meta ?? {};
  const path = str(m['path']) ?? str(deny?.meta['path']) ?? '';
  const bodyText = text(req);
  const api = str(m['adapter']) ?? str(head?.meta['adapter']);
  const requestHeaders = headerMap(m['headers']);
  const responseHeaders = headerMap(head?.meta['headers']);
  const t0 = req?.ts ?? recs[0]!.ts;
  const chunks: RecordedChunk[] = recs
    .filter((r) => r.kind === 'chunk' && r.body)
    .map((r) => ({ at: typeof r.meta['at'] === 'number' ? r.meta['at'] : r.ts, body: r.body! }));
  const answer = reassembleAnswer(api, framingOf(firstHeader(responseHeaders, 'content-type')), chunks, t0);
  const findings = [
    ...(Array.isArray(m['findings']) ? m['findings'] : []),
    ...(Array.isArray(end?.meta['findings']) ? end!.meta['findings'] : []),
  ].filter((f): f is string => typeof f === 'string');
  const status = typeof end?.meta['status'] === 'number' ? end.meta['status'] : typeof head?.meta['status'] === 'number' ? head.meta['status'] : typeof deny?.meta['status'] === 'number' ? deny.meta['status'] : typeof err?.meta['status'] === 'number' ? err.meta['status'] : null;
  return {
    n,
    method: str(m['method']) ?? '',
    host: str(m['host']) ?? '',
    path,
    api,
    model: requestModel(bodyText, path),
    stream: requestStreams(bodyText, path),
    status,
    outcome: deny ? 'denied' : err ? 'error' : end ? 'complete' : 'open',
    reason: str(deny?.meta['reason']) ?? str(err?.meta['reason']),
    startedAt: t0,
    ttfbMs: typeof head?.meta['ttfbMs'] === 'number' ? head.meta['ttfbMs'] : null,
    durationMs: typeof end?.meta['durationMs'] === 'number' ? end.meta['durationMs'] : null,
    prompt: promptTurns(api, bodyText),
    answer: answer.turns,
    replay: answer.replay,
    usage: answer.usage,
    findings,
    requestHeaders,
    responseHeaders,
    seqs: recs.map((r) => r.seq),
  };
}

/** The session's exchanges in order; records without an exchange number are session-level. */
export function sessionExchanges(records: StoredRecord[]): Exchange[] {
  const byN = new Map<number, StoredRecord[]>();
  for (const r of records) {
    const n = r.meta['n'];
    if (typeof n !== 'number') continue;
    const list = byN.get(n) ?? [];
    list.push(r);
    byN.set(n, list);
  }
  return [...byN.entries()].sort((a, b) => a[0] - b[0]).map(([n, recs]) => buildExchange(n, recs));
}

function identityOf(records: StoredRecord[]): Obj | null {
  for (const r of records) if (isObj(r.meta['identity'])) return r.meta['identity'];
  return null;
}

function claim(attrs: Obj, names: string[]): string | null {
  for (const n of names) {
    const v = attrs[n];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

function decisionOf(records: StoredRecord[], exchanges: Exchange[]): SessionFacts['decision'] {
  if (records.some((r) => r.kind === 'tunnel')) return 'tunnelled';
  if (records.some((r) => r.kind === 'deny')) return 'denied';
  if (records.some((r) => String(r.kind).startsWith('approval') || isObj(r.meta['approval']))) return 'approved';
  if (exchanges.length && exchanges.every((e) => e.outcome === 'error')) return 'error';
  if (!exchanges.length && records.some((r) => r.kind === 'error')) return 'error';
  return 'allowed';
}

function agentOf(records: StoredRecord[], exchanges: Exchange[]): string | null {
  for (const r of records) {
    const a = r.meta['agent'];
    if (typeof a === 'string') return a;
    if (isObj(a) && typeof a['name'] === 'string') return typeof a['version'] === 'string' ? `${a['name']}/${a['version']}` : a['name'];
  }
  for (const e of exchanges) {
    const ua = firstHeader(e.requestHeaders, 'user-agent');
    const agent = agentFromUserAgent(ua);
    if (agent) return agent;
  }
  return null;
}

/** Folds a session's summary and records into the facts shown in lists and used by filters. */
export function sessionFacts(summary: SessionSummary, records: StoredRecord[], exchanges = sessionExchanges(records)): SessionFacts {
  const id = identityOf(records);
  const attrs = isObj(id?.['attributes']) ? (id['attributes'] as Obj) : {};
  const connect = records.find((r) => r.kind === 'connect' || r.kind === 'tunnel' || r.kind === 'deny');
  const target = str(connect?.meta['target']) ?? str(connect?.meta['host']);
  const host = exchanges[0]?.host || (target ? target.replace(/:\d+$/, '') : null);
  return {
    session: summary.session,
    firstTs: summary.firstTs,
    lastTs: summary.lastTs,
    ended: summary.ended,
    subject: str(id?.['subject']) ?? summary.users[0] ?? null,
    groups: Array.isArray(id?.['groups']) ? (id['groups'] as unknown[]).filter((g): g is string => typeof g === 'string') : [],
    ci: {
      repository: claim(attrs, ['repository', 'project_path', 'vcs_origin']),
      run: claim(attrs, ['run_id', 'pipeline_id', 'run', 'workflow_run_id']),
      sha: claim(attrs, ['sha', 'commit_sha', 'ci_commit_sha']),
    },
    agent: agentOf(records, exchanges),
    host: host || null,
    models: [...new Set(exchanges.map((e) => e.model).filter((m): m is string => m !== null))],
    requests: exchanges.length,
    tokens: exchanges.reduce((s, e) => s + (e.usage.total ?? (e.usage.input ?? 0) + (e.usage.output ?? 0)), 0),
    masked: exchanges.reduce((s, e) => s + e.findings.length, 0),
    decision: decisionOf(records, exchanges),
  };
}
