// The one read contract of the audit log (after tessera's split of appender, lifecycle and reader).
// The CLI, the admin API, the admin UI and tests read through AuditReader, whichever of three
// implementations stands behind it:
//   live-read.ts     the running log: LevelDB plus the records still only in a segment (the ingester's tail)
//   local-reader.ts  a closed data folder, offline (verify, export and sessions on a stopped proxy)
//   remote-reader.ts a running proxy's admin API (the CLI while the proxy holds the LevelDB lock)
// None of them spells a storage key: the store-level reads live in read.ts over layout.ts.
import type { SessionSummary, StoredRecord } from './types.js';
import type { Verifier } from './note.js';
import type { VerifyReport } from './verify.js';
import type { ExportFilter, ExportStats } from './bundle.js';
import type { IndexedSession, SessionIndexPage, SessionIndexQuery } from './index/index.js';

/** Which sessions: every condition given must hold. */
export interface SessionFilter {
  /** Unix ms: sessions with a record at or after this time (lastTs >= since). */
  since?: number;
  /** Unix ms: sessions with a record at or before this time (firstTs <= until). */
  until?: number;
  /** meta.identity subject or email seen on the session's records. */
  user?: string;
  /** @deprecated Use SessionPage.limit (still honoured: the smaller of the two wins). */
  limit?: number;
}

/** Which page of the matching sessions, in which order. */
export interface SessionPage {
  /** 'oldest' (default): by first record ascending; 'newest': descending (newest session first). */
  order?: 'oldest' | 'newest';
  /** At most this many sessions (default: all). */
  limit?: number;
  /**
   * Cursor: the firstSeq of the last session of the previous page. Only sessions strictly after it
   * in the page's order are returned (firstSeq > cursor for 'oldest', < cursor for 'newest').
   * Sessions are ordered by their first record's seq, which also orders them by start time.
   */
  cursor?: number;
}

export interface ShownSession {
  summary: SessionSummary;
  records: StoredRecord[];
}

export interface AuditReader {
  /** 'live' (the running log), 'local' (a closed data folder) or 'remote' (an admin API). */
  readonly kind: 'live' | 'local' | 'remote';
  /**
   * Summaries of the sessions matching `filter`, one page in the page's order. Implementations may
   * answer from secondary indexes; the result must equal filtering every summary in that order.
   */
  listSessions(filter?: SessionFilter, page?: SessionPage): Promise<SessionSummary[]>;
  /**
   * One page of sessions from the secondary indexes (src/audit/index), newest first: filters on
   * user, group, CI repository, agent, host, model, decision and start time, words of the masked
   * prompts and answers, a firstSeq cursor. Rows carry the session's facts (index/facts.ts).
   */
  querySessions(q: SessionIndexQuery): Promise<SessionIndexPage>;
  /** Sessions with a record at or after `since` (unix ms), newest activity first (live views, `sessions tail`). */
  activeSessions(since: number): Promise<IndexedSession[]>;
  /** One session's summary (including records not yet ingested on a running log), or null. */
  sessionSummary(id: string): Promise<SessionSummary | null>;
  /** One session's records in order, with bodies; [] when the session is unknown. */
  sessionRecords(id: string): Promise<StoredRecord[]>;
  /** Summary and records together (one consistent read), or null when the session is unknown. */
  showSession(id: string): Promise<ShownSession | null>;
  /** Records with from <= seq < to, in seq order, with bodies (a range past the end yields what exists). */
  records(from: number, to: number): AsyncGenerator<StoredRecord>;
  /** The newest signed checkpoint note, or null for an empty log. */
  latestCheckpoint(): Promise<string | null>;
  /** Signed checkpoint notes, newest first (at most `limit`). */
  checkpoints(limit: number): Promise<string[]>;
  /** Verifier keys of this log (current and earlier signing keys). */
  publicKeys(): Promise<Verifier[]>;
  /** Verifies the whole log (see verify.ts); a running log first waits for ingest to catch up. */
  verify(opts?: { onProgress?: (done: number, total: number) => void }): Promise<VerifyReport>;
  /** An export bundle's bytes (see bundle.ts); `stats` is filled in as it goes and final once done. */
  exportBundle(filter: ExportFilter, stats?: ExportStats): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

export class ReaderError extends Error {
  override readonly name = 'ReaderError';
}

/** The page's limit combined with the deprecated filter.limit. */
export function pageLimit(filter: SessionFilter, page: SessionPage): number | undefined {
  const a = filter.limit;
  const b = page.limit;
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** Whether a summary matches the filter (the reference every index-backed answer must equal). */
export function summaryMatches(s: SessionSummary, f: SessionFilter): boolean {
  if (f.since !== undefined && s.lastTs < f.since) return false;
  if (f.until !== undefined && s.firstTs > f.until) return false;
  if (f.user !== undefined && !s.users.includes(f.user)) return false;
  return true;
}

/** Whether a session lies after the page's cursor in the page's order. */
export function afterCursor(s: SessionSummary, page: SessionPage): boolean {
  if (page.cursor === undefined) return true;
  return page.order === 'newest' ? s.firstSeq < page.cursor : s.firstSeq > page.cursor;
}
