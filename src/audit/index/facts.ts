// The facts a session list shows and filters on, folded record by record at ingest (the same facts
// transcript/session.ts derives from a whole session; a test checks they agree). Session-level facts
// (identity, CI claims, agent, host, decision flags) come from record meta; an exchange's model and
// prompt come with its request, its token usage and answer text once it completes (response-end,
// error, deny, or the session's end), from the chunks held meanwhile (bounded).
import type { AuditRecord, JsonObject, JsonValue } from '../types.js';
import { agentFromUserAgent, framingOf, promptTurns, reassembleAnswer, requestModel, type RecordedChunk } from '../../transcript/index.js';

export type Decision = 'allowed' | 'denied' | 'approved' | 'tunnelled' | 'error';

export interface IndexedFacts {
  subject: string | null;
  groups: string[];
  ci: { repository: string | null; run: string | null; sha: string | null };
  agent: string | null;
  host: string | null;
  models: string[];
  requests: number;
  tokens: number;
  masked: number;
  decision: Decision;
}

/** What the fold needs besides the facts; stored with them so a restart resumes where LevelDB stands. */
export interface FoldFlags {
  tunnel: boolean;
  deny: boolean;
  approved: boolean;
  anyError: boolean;
  errorExchanges: number;
  identity: boolean;
  agentFromMeta: boolean;
  hostFromRequest: boolean;
  /** Exchanges begun and not complete: n -> seq of their first record. */
  pending: Record<string, number>;
  /** Recently completed exchange numbers (late records of theirs are not a new exchange). */
  done: number[];
}

export interface FactsRow {
  facts: IndexedFacts;
  fold: FoldFlags;
}

/** An exchange being folded: what its completion needs. */
export interface PendingExchange {
  n: number;
  firstSeq: number;
  api: string | null;
  contentType: string | null;
  t0: number;
  chunks: RecordedChunk[];
  chunkBytes: number;
  findings: number;
  /** Words of this exchange posted so far (its v/ entry). */
  words: Set<string>;
}

const MAX_LIST = 16;
const MAX_DONE = 64;

type Obj = { [k: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function emptyRow(): FactsRow {
  return {
    facts: { subject: null, groups: [], ci: { repository: null, run: null, sha: null }, agent: null, host: null, models: [], requests: 0, tokens: 0, masked: 0, decision: 'allowed' },
    fold: { tunnel: false, deny: false, approved: false, anyError: false, errorExchanges: 0, identity: false, agentFromMeta: false, hostFromRequest: false, pending: {}, done: [] },
  };
}

function claim(attrs: Obj, names: string[]): string | null {
  for (const n of names) {
    const v = attrs[n];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

function metaAgent(meta: JsonObject): string | null {
  const a = meta['agent'];
  if (typeof a === 'string') return a;
  if (isObj(a) && typeof a['name'] === 'string') return typeof a['version'] === 'string' ? `${a['name']}/${a['version']}` : a['name'];
  return null;
}

function header(meta: JsonObject, name: string): string | null {
  const h = meta['headers'];
  if (!isObj(h)) return null;
  const v = h[name];
  return Array.isArray(v) ? str(v[0]) : str(v);
}

function findingsOf(meta: JsonObject): number {
  const f = meta['findings'];
  return Array.isArray(f) ? f.filter((x) => typeof x === 'string').length : 0;
}

export function decisionOf(row: FactsRow): Decision {
  const { fold: f, facts } = row;
  if (f.tunnel) return 'tunnelled';
  if (f.deny) return 'denied';
  if (f.approved) return 'approved';
  if (facts.requests > 0 && f.errorExchanges === facts.requests) return 'error';
  if (facts.requests === 0 && f.anyError) return 'error';
  return 'allowed';
}

/** Folds a record's session-level facts into the row (identity, agent, host, decision flags). */
export function foldSession(row: FactsRow, r: AuditRecord): void {
  const { facts, fold } = row;
  const m = r.meta;
  if (!fold.identity && isObj(m['identity'])) {
    fold.identity = true;
    const id = m['identity'];
    const attrs = isObj(id['attributes']) ? id['attributes'] : {};
    facts.subject = str(id['subject']);
    facts.groups = Array.isArray(id['groups']) ? id['groups'].filter((g): g is string => typeof g === 'string').slice(0, MAX_LIST) : [];
    facts.ci = {
      repository: claim(attrs, ['repository', 'project_path', 'vcs_origin']),
      run: claim(attrs, ['run_id', 'pipeline_id', 'run', 'workflow_run_id']),
      sha: claim(attrs, ['sha', 'commit_sha', 'ci_commit_sha']),
    };
  }
  if (!fold.agentFromMeta) {
    const a = metaAgent(m);
    if (a) {
      facts.agent = a;
      fold.agentFromMeta = true;
    }
  }
  if (!fold.hostFromRequest && facts.host === null && (r.kind === 'connect' || r.kind === 'tunnel' || r.kind === 'deny')) {
    const target = str(m['target']) ?? str(m['host']);
    if (target) facts.host = target.replace(/:\d+$/, '') || null;
  }
  if (r.kind === 'tunnel') fold.tunnel = true;
  if (r.kind === 'deny') fold.deny = true;
  if (r.kind === 'error') fold.anyError = true;
  if (String(r.kind).startsWith('approval') || isObj(m['approval'])) fold.approved = true;
}

/** Starts an exchange at its first record (meta.n seen for the first time); false when it already completed. */
export function beginExchange(row: FactsRow, n: number, seq: number): boolean {
  if (row.fold.done.includes(n) || row.fold.pending[n] !== undefined) return false;
  row.fold.pending[n] = seq;
  row.facts.requests++;
  return true;
}

/** Folds a request record: host, model, agent from the User-Agent; returns the prompt text. */
export function foldRequest(row: FactsRow, x: PendingExchange, r: AuditRecord, body: Buffer | null): string {
  const { facts, fold } = row;
  const m = r.meta;
  const bodyText = body ? body.toString('utf8') : '';
  const path = str(m['path']) ?? '';
  const host = str(m['host']);
  if (!fold.hostFromRequest) {
    fold.hostFromRequest = true;
    facts.host = host || facts.host;
  }
  x.api = str(m['adapter']) ?? x.api;
  x.t0 = r.ts;
  x.findings += findingsOf(m);
  const model = requestModel(bodyText, path);
  if (model !== null && !facts.models.includes(model) && facts.models.length < MAX_LIST) facts.models = [...facts.models, model];
  if (facts.agent === null) facts.agent = agentFromUserAgent(header(m, 'user-agent'));
  return promptTurns(x.api, bodyText)
    .map((t) => t.text)
    .join('\n');
}

/** Folds a response-head or chunk record into its exchange (chunks held up to `room` bytes). */
export function foldResponse(x: PendingExchange, r: AuditRecord, body: Buffer | null, room: number): number {
  if (r.kind === 'response-head') {
    x.api = x.api ?? str(r.meta['adapter']);
    x.contentType = header(r.meta, 'content-type');
    return 0;
  }
  if (r.kind === 'chunk' && body && body.length <= room) {
    x.chunks.push({ at: typeof r.meta['at'] === 'number' ? r.meta['at'] : r.ts, body });
    x.chunkBytes += body.length;
    return body.length;
  }
  return 0;
}

/** Completes an exchange: token usage, masked count, outcome; returns the answer text. */
export function completeExchange(row: FactsRow, x: PendingExchange, outcome: 'complete' | 'denied' | 'error' | 'open', end: AuditRecord | null): string {
  const { facts, fold } = row;
  if (end?.kind === 'response-end') x.findings += findingsOf(end.meta);
  const answer = reassembleAnswer(x.api, framingOf(x.contentType), x.chunks, x.t0);
  const u = answer.usage;
  facts.tokens += u.total ?? (u.input ?? 0) + (u.output ?? 0);
  facts.masked += x.findings;
  if (outcome === 'error') fold.errorExchanges++;
  delete fold.pending[x.n];
  fold.done = [...fold.done, x.n].slice(-MAX_DONE);
  return answer.turns.map((t) => t.text).join('\n');
}

export function newPending(n: number, firstSeq: number, ts: number): PendingExchange {
  return { n, firstSeq, api: null, contentType: null, t0: ts, chunks: [], chunkBytes: 0, findings: 0, words: new Set() };
}

/** Index values of a session's facts, per field (lower-cased; users as recorded, like the summary's). */
export function indexValues(facts: IndexedFacts, users: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (field: string, v: string | null) => {
    if (v) out.push([field, field === 'user' ? v : v.toLowerCase()]);
  };
  for (const u of users) add('user', u);
  if (facts.subject && !users.includes(facts.subject)) add('user', facts.subject);
  for (const g of facts.groups) add('group', g);
  add('repository', facts.ci.repository);
  if (facts.agent) {
    add('agent', facts.agent);
    const name = facts.agent.split('/')[0]!;
    if (name !== facts.agent) add('agent', name);
  }
  add('host', facts.host);
  for (const m of facts.models) for (const p of modelPrefixes(m)) add('model', p);
  add('decision', facts.decision);
  return out;
}

/** A model and its dash-separated prefixes ("claude-sonnet-4" -> claude, claude-sonnet, claude-sonnet-4), so --model claude finds it. */
export function modelPrefixes(model: string): string[] {
  const parts = model.split('-');
  const out: string[] = [];
  for (let i = 1; i <= parts.length && i <= 8; i++) out.push(parts.slice(0, i).join('-'));
  if (!out.includes(model)) out.push(model);
  return out;
}

/** Values are bounded so a key stays small (a longer value is cut; the same cut applies to queries). */
export const MAX_VALUE = 200;
export const indexValue = (field: string, v: string): string => (field === 'user' ? v : v.toLowerCase()).slice(0, MAX_VALUE);
