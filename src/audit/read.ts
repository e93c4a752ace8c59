// Read side over a store handle: sessions, transcripts, the latest checkpoint, the retention cut.
// Used by the writer (its own reads), the admin routes and the CLI on a stopped proxy.
import type { Db } from './store.js';
import * as K from './keys.js';
import { decodeRecord } from './record.js';
import { leafHash } from './merkle.js';
import type { SessionSummary, StoredRecord } from './types.js';

export interface SessionFilter {
  since?: number;
  until?: number;
  user?: string;
  limit?: number;
}

export function toStored(bytes: Buffer, body: Buffer | undefined, prunedBefore: number): StoredRecord {
  const r = decodeRecord(bytes);
  const pruned = r.bodyHash !== null && body === undefined && r.seq < prunedBefore;
  return { ...r, hash: leafHash(bytes).toString('hex'), body: body ?? null, bodyPruned: pruned };
}

export async function listSessions(db: Db, filter: SessionFilter = {}): Promise<SessionSummary[]> {
  const out: SessionSummary[] = [];
  for await (const v of db.values({ gte: 's/', lt: 's0' })) {
    const s = JSON.parse(v.toString('utf8')) as SessionSummary;
    if (filter.since !== undefined && s.lastTs < filter.since) continue;
    if (filter.until !== undefined && s.firstTs > filter.until) continue;
    if (filter.user !== undefined && !s.users.includes(filter.user)) continue;
    out.push(s);
    if (filter.limit !== undefined && out.length >= filter.limit) break;
  }
  return out;
}

export async function sessionSummary(db: Db, session: string): Promise<SessionSummary | null> {
  const fs = await db.get(K.sessionIdKey(session));
  if (!fs) return null;
  const v = await db.get(K.summaryKey(K.parseHex(fs.toString(), 16) ?? -1));
  return v ? (JSON.parse(v.toString('utf8')) as SessionSummary) : null;
}

export async function readRecords(db: Db, seqs: number[], prunedBefore: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let i = 0; i < seqs.length; i += 512) {
    const part = seqs.slice(i, i + 512);
    const [recs, bodies] = await Promise.all([db.getMany(part.map(K.recordKey)), db.getMany(part.map(K.bodyKey))]);
    part.forEach((seq, j) => {
      const bytes = recs[j];
      if (!bytes) throw new Error(`audit store is inconsistent: record ${seq} is missing; run wiretrail verify`);
      out.push(toStored(bytes, bodies[j], prunedBefore));
    });
  }
  return out;
}

/** The committed records of one session, in order, with bodies; [] when the session is unknown. */
export async function readSession(db: Db, session: string, prunedBefore: number): Promise<StoredRecord[]> {
  const fs = await db.get(K.sessionIdKey(session));
  if (!fs) return [];
  const firstSeq = K.parseHex(fs.toString(), 16);
  if (firstSeq === null) throw new Error(`audit store is inconsistent: bad session index for "${session}"; run wiretrail verify`);
  const prefix = K.indexPrefix(firstSeq);
  const seqs: number[] = [];
  for await (const v of db.values({ gte: prefix, lt: K.prefixEnd(prefix) })) {
    const s = K.parseHex(v.toString(), 16);
    if (s === null) throw new Error(`audit store is inconsistent: bad session index entry for "${session}"; run wiretrail verify`);
    seqs.push(s);
  }
  return readRecords(db, seqs, prunedBefore);
}

/** The newest signed checkpoint note kept in the store, or null. */
export async function latestCheckpointNote(db: Db): Promise<string | null> {
  const cps = await db.values({ gte: 'c/', lt: 'c0', reverse: true, limit: 1 }).all();
  return cps[0] ? cps[0].toString('utf8') : null;
}

/** Bodies of records below this seq were deleted by retention (0: none). */
export async function readPrunedBefore(db: Db): Promise<number> {
  const rp = await db.get(K.RETENTION_KEY);
  if (!rp) return 0;
  const r = await db.get(K.recordKey(K.parseHex(rp.toString(), 16) ?? -1));
  const p = r ? decodeRecord(r).meta.prunedBefore : undefined;
  return typeof p === 'number' ? p : 0;
}
