// Read side over a store handle: sessions, transcripts, the latest checkpoint, the retention cut.
// Used by the writer (its own reads), the admin routes and the CLI on a stopped proxy.
import type { Db } from './store.js';
import * as K from './layout.js';
import { decodeRecord } from './record.js';
import type { Entry } from './value.js';
import { EntryReader, entriesFrom, withReader } from './blocks.js';
import { leafHash } from './merkle.js';
import type { SessionSummary, StoredRecord } from './types.js';
import { pageLimit, summaryMatches, type SessionFilter, type SessionPage } from './reader.js';

export type { SessionFilter, SessionPage };

/** A stored value as a StoredRecord (body null when absent; bodyPruned when retention removed it). */
export function toStored({ record, body }: Entry, prunedBefore: number): StoredRecord {
  const r = decodeRecord(record);
  const pruned = r.bodyHash !== null && body === null && r.seq < prunedBefore;
  return { ...r, hash: leafHash(record).toString('hex'), body: body ? Buffer.from(body) : null, bodyPruned: pruned };
}

/**
 * Session summaries matching the filter, one page in the page's order (by first seq), straight from
 * the summary keys: a cursor becomes the key range's bound, 'newest' a reverse iterator. `live`
 * may substitute fresher state (the running log's tail) before the filter is applied.
 */
export async function listSessions(db: Db, filter: SessionFilter = {}, page: SessionPage = {}, live: (s: SessionSummary) => SessionSummary = (s) => s): Promise<SessionSummary[]> {
  const out: SessionSummary[] = [];
  const limit = pageLimit(filter, page);
  if (limit !== undefined && limit <= 0) return out;
  const range: { gte?: string; gt?: string; lt?: string; reverse?: boolean } = K.prefixRange(K.SUMMARY_PREFIX);
  if (page.order === 'newest') {
    range.reverse = true;
    if (page.cursor !== undefined) range.lt = K.summaryKey(Math.max(0, page.cursor));
  } else if (page.cursor !== undefined && page.cursor >= 0) {
    delete range.gte;
    range.gt = K.summaryKey(page.cursor);
  }
  for await (const v of db.values(range as object) as AsyncIterable<Buffer>) {
    const s = live(JSON.parse(v.toString('utf8')) as SessionSummary);
    if (!summaryMatches(s, filter)) continue;
    out.push(s);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

type ReadOpts = { snapshot?: unknown };

export async function sessionSummary(db: Db, session: string, opts: ReadOpts = {}): Promise<SessionSummary | null> {
  const fs = await db.get(K.sessionIdKey(session), opts as object);
  if (!fs) return null;
  const v = await db.get(K.summaryKey(K.parseHex(fs.toString(), 16) ?? -1), opts as object);
  return v ? (JSON.parse(v.toString('utf8')) as SessionSummary) : null;
}

/** The seq of a session's last committed record: the summary's, plus a scan past the latest checkpoint for an open session. */
async function lastSeqOf(db: Db, summary: SessionSummary, opts: ReadOpts = {}): Promise<number> {
  let last = summary.lastSeq;
  if (summary.ended) return last;
  const cp = await latestCheckpointNote(db);
  const cpSize = cp ? Number(cp.split('\n')[1]) : 0;
  for await (const e of entriesFrom(db, Math.max(cpSize, summary.lastSeq + 1), opts)) {
    if (decodeRecord(e.record).session === summary.session) last = e.seq;
  }
  return last;
}

/** A session's entries in order, walking back pointers from `last` with a shared reader (one pass, no second lookup). */
export async function walkSession(reader: EntryReader, summary: SessionSummary, last: number): Promise<Entry[]> {
  const out: Entry[] = [];
  let seq: number | null = last;
  while (seq !== null) {
    if (seq < summary.firstSeq) throw new Error(`audit store is inconsistent: session "${summary.session}" links outside itself; run wiretrail verify`);
    const e: Entry | null = await reader.get(seq);
    if (!e) throw new Error(`audit store is inconsistent: record ${seq} is missing; run wiretrail verify`);
    out.push(e);
    seq = e.prev;
  }
  return out.reverse();
}

/** The entries of one session in order ([] when unknown); `lastSeq`: its last committed record when the caller knows it (the live writer). */
export async function sessionEntries(db: Db, session: string, lastSeq?: number, opts: ReadOpts = {}): Promise<Entry[]> {
  const summary = await sessionSummary(db, session, opts);
  if (!summary) return [];
  const last = lastSeq ?? (await lastSeqOf(db, summary, opts));
  return withReader(db, opts, (reader) => walkSession(reader, summary, last));
}

/** Seqs of a session's records in order (see sessionEntries). */
export async function sessionSeqs(db: Db, session: string, lastSeq?: number, opts: ReadOpts = {}): Promise<number[]> {
  return (await sessionEntries(db, session, lastSeq, opts)).map((e) => e.seq);
}

export async function readRecords(db: Db, seqs: number[], prunedBefore: number): Promise<StoredRecord[]> {
  return withReader(db, {}, async (reader) => (await reader.getMany(seqs)).map((e) => toStored(e, prunedBefore)));
}

/** The committed records of one session, in order, with bodies; [] when the session is unknown. */
export async function readSession(db: Db, session: string, prunedBefore: number, lastSeq?: number): Promise<StoredRecord[]> {
  return (await sessionEntries(db, session, lastSeq)).map((e) => toStored(e, prunedBefore));
}

/** The newest signed checkpoint note kept in the store, or null. */
export async function latestCheckpointNote(db: Db): Promise<string | null> {
  const cps = await db.values({ ...K.prefixRange(K.CHECKPOINT_PREFIX), reverse: true, limit: 1 }).all();
  return cps[0] ? cps[0].toString('utf8') : null;
}

/** Signed checkpoint notes kept in the store, newest first. */
export async function checkpointNotes(db: Db, limit: number): Promise<string[]> {
  const cps = await db.values({ ...K.prefixRange(K.CHECKPOINT_PREFIX), reverse: true, limit }).all();
  return cps.map((v) => v.toString('utf8'));
}

/** Bodies of records below this seq were deleted by retention (0: none). */
export async function readPrunedBefore(db: Db): Promise<number> {
  const rp = await db.get(K.RETENTION_KEY);
  if (!rp) return 0;
  const e = await withReader(db, {}, (r) => r.get(K.parseHex(rp.toString(), 16) ?? -1));
  const p = e ? decodeRecord(e.record).meta.prunedBefore : undefined;
  return typeof p === 'number' ? p : 0;
}
