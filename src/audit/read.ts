// Read side over a store handle: sessions, transcripts, the latest checkpoint, the retention cut.
// Used by the writer (its own reads), the admin routes and the CLI on a stopped proxy.
import type { Db } from './store.js';
import * as K from './layout.js';
import { decodeRecord } from './record.js';
import type { Entry } from './value.js';
import { entriesFrom, withReader } from './blocks.js';
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

export async function sessionSummary(db: Db, session: string): Promise<SessionSummary | null> {
  const fs = await db.get(K.sessionIdKey(session));
  if (!fs) return null;
  const v = await db.get(K.summaryKey(K.parseHex(fs.toString(), 16) ?? -1));
  return v ? (JSON.parse(v.toString('utf8')) as SessionSummary) : null;
}

/**
 * Seqs of a session's records in order: from its last record back along the values' back pointers.
 * `lastSeq`: the last committed record when the caller knows it (the live writer); otherwise the
 * summary's, plus a scan of the records after the latest checkpoint for an open session.
 */
export async function sessionSeqs(db: Db, session: string, lastSeq?: number): Promise<number[]> {
  const summary = await sessionSummary(db, session);
  if (!summary) return [];
  let last = lastSeq ?? summary.lastSeq;
  if (lastSeq === undefined && !summary.ended) {
    const cp = await latestCheckpointNote(db);
    const cpSize = cp ? Number(cp.split('\n')[1]) : 0;
    for await (const e of entriesFrom(db, Math.max(cpSize, summary.lastSeq + 1))) {
      if (decodeRecord(e.record).session === session) last = e.seq;
    }
  }
  return withReader(db, {}, async (reader) => {
    const seqs: number[] = [];
    let seq: number | null = last;
    while (seq !== null) {
      if (seq < summary.firstSeq) throw new Error(`audit store is inconsistent: session "${session}" links outside itself; run wiretrail verify`);
      seqs.push(seq);
      const e: Entry | null = await reader.get(seq);
      if (!e) throw new Error(`audit store is inconsistent: record ${seq} is missing; run wiretrail verify`);
      seq = e.prev;
    }
    return seqs.reverse();
  });
}

export async function readRecords(db: Db, seqs: number[], prunedBefore: number): Promise<StoredRecord[]> {
  return withReader(db, {}, async (reader) => (await reader.getMany(seqs)).map((e) => toStored(e, prunedBefore)));
}

/** The committed records of one session, in order, with bodies; [] when the session is unknown. */
export async function readSession(db: Db, session: string, prunedBefore: number, lastSeq?: number): Promise<StoredRecord[]> {
  return readRecords(db, await sessionSeqs(db, session, lastSeq), prunedBefore);
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
