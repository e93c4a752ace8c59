// AuditReader over the running log: what LevelDB holds plus the records still only in a segment (the
// ingester's in-memory tail), so sessions, transcripts and record ranges show every appended record
// at once, however far ingest lags. Secondary indexes (sessions by user, by host…) follow the same
// rule: derived at ingest from IngestItem, merged with the tail here. Verify and export first wait
// for ingest to catch up (export signs a fresh checkpoint so every appended record is covered).
import type { SessionSummary, StoredRecord } from './types.js';
import { decodeRecord } from './record.js';
import { mergeAgents, mergeUsers } from './session-state.js';
import { checkpointNotes, latestCheckpointNote, listSessions, readSession, sessionSummary, toStored } from './read.js';
import { entriesFrom } from './blocks.js';
import { afterCursor, pageLimit, summaryMatches, type AuditReader, type SessionFilter, type SessionPage, type ShownSession } from './reader.js';
import { readExternalCheckpoints, verifyStore, type VerifyReport } from './verify.js';
import { exportBundle, type ExportFilter, type ExportStats } from './bundle.js';
import type { Verifier } from './note.js';
import type { Ingester, IngestItem } from './ingest.js';
import { activeSessionSeqs, querySessionIndex, sessionRows, type IndexedSession, type SessionIndexPage, type SessionIndexQuery } from './index/index.js';

/** What the live reader needs from the log around it (AuditLog supplies it). */
export interface LiveLog {
  readonly ingester: Ingester;
  readonly dataDir: string;
  /** Witness files to check as outside checkpoint copies. */
  readonly witnessFiles: string[];
  /** Waits until every appended record is in LevelDB. */
  drained(): Promise<void>;
  /** Signs a checkpoint over everything appended; its note, or null for an empty log. */
  checkpointNow(): Promise<string | null>;
  publicKeys(): Verifier[];
}

function storedOf(it: IngestItem): StoredRecord {
  return { ...decodeRecord(it.record), hash: it.hash, body: it.body ? Buffer.from(it.body) : null, bodyPruned: false };
}

/** A summary advanced by the session's records in the tail (those past what it covers). */
function fold(base: SessionSummary | null, items: IngestItem[] | undefined): SessionSummary | null {
  let s = base;
  for (const it of items ?? []) {
    if (s && s.count > 0 && it.seq <= s.lastSeq) continue;
    const r = decodeRecord(it.record);
    s ??= { session: r.session, firstSeq: r.seq, lastSeq: r.seq, count: 0, firstTs: r.ts, lastTs: r.ts, ended: false, lastHash: '', users: [] };
    s = { ...s, lastSeq: r.seq, count: r.sessionSeq + 1, lastTs: r.ts, ended: r.kind === 'session-end', lastHash: it.hash, users: it.users.length ? mergeUsers(s.users, it.users) : s.users };
    if (it.agents.length) s.agents = mergeAgents(s.agents, it.agents);
  }
  return s;
}

export class LiveReader implements AuditReader {
  readonly kind = 'live' as const;
  constructor(private readonly log: LiveLog) {}

  private get ing(): Ingester {
    return this.log.ingester;
  }

  /** Tail items by session, taken synchronously together with the ingester's session view. */
  private snapshot(session?: string): Map<string, IngestItem[]> {
    const by = new Map<string, IngestItem[]>();
    for (const it of this.ing.tail()) {
      if (session !== undefined && it.session !== session) continue;
      const list = by.get(it.session);
      if (list) list.push(it);
      else by.set(it.session, [it]);
    }
    return by;
  }

  async sessionRecords(session: string): Promise<StoredRecord[]> {
    const tail = this.snapshot(session).get(session) ?? [];
    const live = this.ing.sessions.get(session)?.committed;
    const stored = await readSession(this.ing.db, session, this.ing.prunedBefore, live ? live.lastSeq : undefined);
    const last = stored.length ? stored[stored.length - 1]!.seq : -1;
    for (const it of tail) if (it.seq > last) stored.push(storedOf(it));
    return stored;
  }

  async listSessions(filter: SessionFilter = {}, page: SessionPage = {}): Promise<SessionSummary[]> {
    const tail = this.snapshot();
    const committed = new Map<string, SessionSummary>();
    for (const [id, st] of this.ing.sessions) if (st.committed) committed.set(id, st.committed);
    const limit = pageLimit(filter, page);
    const seen = new Set<string>();
    const stored = await listSessions(this.ing.db, filter, page, (s) => {
      seen.add(s.session);
      return fold(committed.get(s.session) ?? s, tail.get(s.session))!;
    });
    // Sessions whose first record is still in the tail started after every stored one.
    const fresh: SessionSummary[] = [];
    for (const [id, items] of tail) {
      if (seen.has(id) || committed.has(id) || decodeRecord(items[0]!.record).sessionSeq !== 0) continue;
      const s = fold(null, items)!;
      if (summaryMatches(s, filter) && afterCursor(s, page)) fresh.push(s);
    }
    fresh.sort((a, b) => a.firstSeq - b.firstSeq);
    const out = page.order === 'newest' ? [...fresh.reverse(), ...stored] : [...stored, ...fresh];
    return limit === undefined ? out : out.slice(0, limit);
  }

  /** Index pages over what LevelDB holds (records still in the tail join within one ingest batch, milliseconds). */
  querySessions(q: SessionIndexQuery): Promise<SessionIndexPage> {
    return querySessionIndex(this.ing.db, q, this.committedSummary);
  }

  async activeSessions(since: number): Promise<IndexedSession[]> {
    const db = this.ing.db;
    return sessionRows(db, await activeSessionSeqs(db, since), this.committedSummary);
  }

  /** An open session's summary as of the last batch (stored summaries of open sessions lag up to a checkpoint). */
  private readonly committedSummary = (s: SessionSummary): SessionSummary => (s.ended ? s : (this.ing.sessions.get(s.session)?.committed ?? s));

  async sessionSummary(session: string): Promise<SessionSummary | null> {
    const tail = this.snapshot(session).get(session);
    const live = this.ing.sessions.get(session)?.committed;
    return fold(live ?? (await sessionSummary(this.ing.db, session)), tail);
  }

  async showSession(id: string): Promise<ShownSession | null> {
    const summary = await this.sessionSummary(id);
    if (!summary) return null;
    const records = await this.sessionRecords(id);
    // Records appended between the two reads: the summary follows the records read.
    const last = records[records.length - 1];
    return { summary: last && last.seq > summary.lastSeq ? ((await this.sessionSummary(id)) ?? summary) : summary, records };
  }

  async *records(from: number, to: number): AsyncGenerator<StoredRecord> {
    // The tail first: whatever leaves it for LevelDB meanwhile is in the iterator's view.
    const tail = this.ing.tail();
    let next = Math.max(0, from);
    const prunedBefore = this.ing.prunedBefore;
    for await (const e of entriesFrom(this.ing.db, next)) {
      if (e.seq >= to) return;
      yield toStored(e, prunedBefore);
      next = e.seq + 1;
    }
    for (const it of tail) {
      if (it.seq < next) continue;
      if (it.seq >= to) return;
      yield storedOf(it);
    }
  }

  latestCheckpoint(): Promise<string | null> {
    return Promise.resolve(this.ing.latest?.note ?? null).then((n) => n ?? latestCheckpointNote(this.ing.db));
  }

  checkpoints(limit: number): Promise<string[]> {
    return checkpointNotes(this.ing.db, limit);
  }

  async publicKeys(): Promise<Verifier[]> {
    return this.log.publicKeys();
  }

  /**
   * Verifies the whole log as it stands (a snapshot; writing goes on) once every appended record is
   * in the store. The trusted keys are the keyring in the certs folder; the outside copies are
   * <data>/checkpoints/latest and the witness files.
   */
  async verify(opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
    await this.log.drained();
    await this.ing.settled();
    const external = await readExternalCheckpoints(this.log.dataDir, this.log.witnessFiles);
    return verifyStore(this.ing.db, { trusted: this.log.publicKeys(), external, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  }

  /** Streams an export bundle; signs a fresh checkpoint first so every appended record is covered. */
  async *exportBundle(filter: ExportFilter, stats?: ExportStats): AsyncGenerator<Buffer> {
    const note = await this.log.checkpointNow();
    if (!note) throw new Error('the audit log is empty');
    yield* exportBundle({ db: this.ing.db, checkpointNote: note, publicKeys: this.log.publicKeys(), prunedBefore: this.ing.prunedBefore }, filter, stats);
  }

  /** The running log closes itself; a reader over it holds nothing of its own. */
  async close(): Promise<void> {}
}
