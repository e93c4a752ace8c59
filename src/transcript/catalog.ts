// Session queries for the UI and the CLI: newest first, filtered on the facts auditors ask about, searched in
// the masked prompts and answers, paginated by a (firstTs, session) cursor. Facts are derived from
// the records once per session version and kept in a bounded cache.
import type { SessionSummary, StoredRecord } from '../audit/index.js';
import { sessionExchanges, sessionFacts } from './session.js';
import type { Exchange, SessionFacts } from './types.js';

/** Where sessions come from: the audit reader (local store or admin API) or the running log. */
export interface TranscriptSource {
  listSessions(filter: { since?: number; until?: number; user?: string }): Promise<SessionSummary[]>;
  showSession(id: string): Promise<{ summary: SessionSummary; records: StoredRecord[] } | null>;
}

export interface SessionQuery {
  q?: string;
  user?: string;
  group?: string;
  repository?: string;
  agent?: string;
  host?: string;
  model?: string;
  decision?: string;
  since?: number;
  until?: number;
  /** Cursor: only sessions strictly older than this (firstTs, then session id). */
  before?: { ts: number; session: string };
  limit: number;
}

/** A session as lists show it: the log's summary plus the facts derived from its records. */
export type SessionRow = SessionSummary & SessionFacts;

export interface QueryResult {
  rows: SessionRow[];
  /** Cursor for the next (older) page, or null at the end. */
  next: { ts: number; session: string } | null;
  /** Sessions whose records were read to answer (search and fact filters read records). */
  scanned: number;
  /** True when the scan budget ran out before the page filled: the answer may be incomplete. */
  truncated: boolean;
}

const CACHE_MAX = 5000;
/** Most sessions one query reads records of; past it the page says the search is incomplete. */
const SCAN_BUDGET = 2000;

interface Cached {
  version: string;
  facts: SessionRow;
  text: string;
}

export class SessionCatalog {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly source: TranscriptSource) {}

  async query(q: SessionQuery): Promise<QueryResult> {
    const summaries = (await this.source.listSessions({ ...(q.since !== undefined ? { since: q.since } : {}), ...(q.until !== undefined ? { until: q.until } : {}), ...(q.user ? { user: q.user } : {}) })).sort(newestFirst);
    const rows: SessionRow[] = [];
    let scanned = 0;
    let truncated = false;
    let next: QueryResult['next'] = null;
    for (const s of summaries) {
      if (q.before && !olderThan(s, q.before)) continue;
      if (rows.length >= q.limit) {
        next = { ts: rows.at(-1)!.firstTs, session: rows.at(-1)!.session };
        break;
      }
      if (scanned >= SCAN_BUDGET) {
        truncated = true;
        next = rows.length ? { ts: rows.at(-1)!.firstTs, session: rows.at(-1)!.session } : { ts: s.firstTs, session: s.session };
        break;
      }
      const c = await this.entry(s);
      scanned++;
      if (c && matches(c, q)) rows.push(c.facts);
    }
    return { rows, next, scanned, truncated };
  }

  /** Facts and search text of one session, from the cache while the session has not changed. */
  private async entry(s: SessionSummary): Promise<Cached | null> {
    const version = `${s.lastSeq}:${s.ended ? 1 : 0}`;
    const hit = this.cache.get(s.session);
    if (hit && hit.version === version) return hit;
    const shown = await this.source.showSession(s.session);
    if (!shown) return null;
    const exchanges = sessionExchanges(shown.records);
    const entry: Cached = { version, facts: { ...shown.summary, ...sessionFacts(shown.summary, shown.records, exchanges) }, text: searchText(exchanges) };
    this.cache.delete(s.session);
    this.cache.set(s.session, entry);
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}

function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return b.firstTs - a.firstTs || (a.session < b.session ? 1 : a.session > b.session ? -1 : 0);
}

function olderThan(s: SessionSummary, c: { ts: number; session: string }): boolean {
  return s.firstTs < c.ts || (s.firstTs === c.ts && s.session < c.session);
}

function searchText(exchanges: Exchange[]): string {
  return exchanges
    .flatMap((e) => [...e.prompt, ...e.answer].map((t) => t.text))
    .join('\n')
    .toLowerCase();
}

const has = (v: string | null, want: string | undefined) => !want || (v ?? '').toLowerCase().includes(want.toLowerCase());

function matches(c: Cached, q: SessionQuery): boolean {
  const f = c.facts;
  if (q.q && !c.text.includes(q.q.toLowerCase())) return false;
  if (q.group && !f.groups.some((g) => g.toLowerCase() === q.group!.toLowerCase())) return false;
  if (!has(f.ci.repository, q.repository) || !has(f.agent, q.agent) || !has(f.host, q.host)) return false;
  if (q.model && !f.models.some((m) => m.toLowerCase().includes(q.model!.toLowerCase()))) return false;
  if (q.decision && f.decision !== q.decision) return false;
  return true;
}
