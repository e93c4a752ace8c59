// Session queries for the UI and the CLI: newest first, filtered on the facts auditors ask about,
// searched in the masked prompts and answers, paginated by a firstSeq cursor. Answered by the audit
// log's secondary indexes (src/audit/index), maintained at ingest: no session is read to list it.
import type { SessionSummary, StoredRecord, SessionIndexQuery, SessionIndexPage, IndexedSession } from '../audit/index.js';
import type { SessionFacts } from './types.js';

/** Where sessions come from: the audit reader (local store or admin API) or the running log. */
export interface TranscriptSource {
  /** One page of sessions from the indexes, newest first. */
  querySessions(q: SessionIndexQuery): Promise<SessionIndexPage>;
  /** Sessions with a record at or after `since` (live views), newest activity first. */
  activeSessions(since: number): Promise<IndexedSession[]>;
  showSession(id: string): Promise<{ summary: SessionSummary; records: StoredRecord[] } | null>;
}

export type SessionQuery = SessionIndexQuery;

/** A session as lists show it: the log's summary plus the facts derived from its records. */
export type SessionRow = SessionSummary & SessionFacts;

export interface QueryResult {
  rows: SessionRow[];
  /** Cursor for the next (older) page, or null at the end. */
  next: number | null;
  /** True when the index walk stopped at its step budget before the page filled (`next` resumes). */
  truncated: boolean;
}

/** The list row of an indexed session. */
export function rowOf({ summary, facts }: IndexedSession): SessionRow {
  return { ...summary, ...facts, subject: facts.subject ?? summary.users[0] ?? null, session: summary.session, firstTs: summary.firstTs, lastTs: summary.lastTs, ended: summary.ended };
}

export class SessionCatalog {
  constructor(private readonly source: TranscriptSource) {}

  async query(q: SessionQuery): Promise<QueryResult> {
    const page = await this.source.querySessions(q);
    return { rows: page.sessions.map(rowOf), next: page.next, truncated: page.truncated };
  }

  /** Sessions active since `since`, newest activity first (for live views and `sessions tail`). */
  async active(since: number): Promise<SessionRow[]> {
    return (await this.source.activeSessions(since)).map(rowOf);
  }
}

const eq = (a: string | null, b: string | undefined) => !b || (a ?? '').toLowerCase() === b.toLowerCase();

/** Whether a row meets the query's field filters (for live rows that did not come from the indexes; no text search). */
export function rowMatches(r: SessionRow, q: SessionQuery): boolean {
  if (q.user && !r.users.includes(q.user) && r.subject !== q.user) return false;
  if (q.group && !r.groups.some((g) => eq(g, q.group))) return false;
  if (!eq(r.ci.repository, q.repository) || !eq(r.host, q.host) || !eq(r.decision, q.decision)) return false;
  if (q.agent && !eq(r.agent, q.agent) && !eq(r.agent?.split('/')[0] ?? null, q.agent)) return false;
  if (q.model && !r.models.some((m) => m.toLowerCase() === q.model!.toLowerCase() || m.toLowerCase().startsWith(`${q.model!.toLowerCase()}-`))) return false;
  return true;
}
