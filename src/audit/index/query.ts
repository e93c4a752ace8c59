// Session queries answered from the secondary indexes, newest first, without scanning: every filter
// and every search word is one posting list (keys ending in the session's firstSeq), and a page is a
// leapfrog join of those lists walked backwards from the cursor (each step a LevelDB seek), so the
// cost follows the page and how the lists interleave, not the size of the log. Sessions are ordered
// by their first record's seq, which also orders them by start time (ts never decreases along the log).
import type { Db } from '../store.js';
import * as K from '../layout.js';
import { decodeRecord } from '../record.js';
import { lastEntry, withReader } from '../blocks.js';
import type { SessionSummary } from '../types.js';
import { emptyRow, indexValue, type FactsRow, type IndexedFacts } from './facts.js';
import { queryWords } from './tokens.js';
import { untag } from './tag.js';

export const INDEXED_FIELDS = ['user', 'group', 'repository', 'agent', 'host', 'model', 'decision'] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];

export interface SessionIndexQuery {
  /** Words that must all occur in the session's masked prompts or answers (see tokens.ts). */
  q?: string;
  user?: string;
  group?: string;
  repository?: string;
  agent?: string;
  host?: string;
  model?: string;
  decision?: string;
  /** Unix ms: sessions that started at or after this time. */
  since?: number;
  /** Unix ms: sessions that started at or before this time. */
  until?: number;
  /** Cursor: only sessions whose firstSeq is below this (the previous page's `next`). */
  before?: number;
  limit: number;
}

export interface IndexedSession {
  summary: SessionSummary;
  facts: IndexedFacts;
}

export interface SessionIndexPage {
  sessions: IndexedSession[];
  /** Cursor for the next (older) page, or null at the end. */
  next: number | null;
  /** Index seeks this page took. */
  steps: number;
  /** True when the step budget ran out before the page filled (the `next` cursor resumes). */
  truncated: boolean;
}

/** Most seeks one page may take; a pathological combination of filters then pages on via `next`. */
const STEP_BUDGET = 200_000;
export const MAX_PAGE = 1000;

/** The posting prefixes the query names; null when a search has no indexable word (nothing can match). */
function postingPrefixes(q: SessionIndexQuery): string[] | null {
  const out: string[] = [];
  for (const f of INDEXED_FIELDS) {
    const v = q[f]?.trim();
    if (v) out.push(K.fieldValuePrefix(f, indexValue(f, v)));
  }
  if (q.q !== undefined && q.q.trim()) {
    const ws = queryWords(q.q);
    if (!ws.length) return null;
    for (const w of ws) out.push(K.wordPrefix(w));
  }
  return out;
}

/** One posting list walked backwards: seekLE(seq) = the greatest firstSeq <= seq in the list, or null. */
class Postings {
  private readonly it: ReturnType<Db['keys']>;
  constructor(
    db: Db,
    private readonly prefix: string,
    lo: number,
    hi: number,
  ) {
    this.it = db.keys({ gte: prefix + K.hex(lo, 16), lt: prefix + K.hex(hi, 16), reverse: true });
  }

  async seekLE(seq: number): Promise<number | null> {
    this.it.seek(this.prefix + K.hex(seq, 16));
    const key = await this.it.next();
    return typeof key === 'string' ? K.indexKeySeq(key) : null;
  }

  close(): Promise<void> {
    return this.it.close();
  }
}

/** First seq whose record's ts is >= ts (binary search over the ts-ordered log); `size` when none. */
async function seqAtTime(db: Db, size: number, ts: number): Promise<number> {
  return withReader(db, {}, async (reader) => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await reader.get(mid);
      if (!e) throw new Error(`record ${mid} is missing; run wiretrail verify`);
      if (decodeRecord(e.record).ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

/** The firstSeq range [lo, hi) the query's time bounds and cursor allow. */
async function seqBounds(db: Db, q: SessionIndexQuery): Promise<[number, number]> {
  const last = await lastEntry(db);
  const size = last ? last.seq + 1 : 0;
  let hi = q.before !== undefined ? Math.min(q.before, size) : size;
  let lo = 0;
  if (q.until !== undefined) hi = Math.min(hi, await seqAtTime(db, size, q.until + 1));
  if (q.since !== undefined) lo = await seqAtTime(db, size, q.since);
  return [lo, Math.max(lo, hi)];
}

/** The firstSeqs of one page of matching sessions, newest first. */
async function matchSeqs(db: Db, prefixes: string[], lo: number, hi: number, limit: number): Promise<{ seqs: number[]; next: number | null; steps: number; truncated: boolean }> {
  const lists = prefixes.map((p) => new Postings(db, p, lo, hi));
  const seqs: number[] = [];
  let steps = 0;
  let cand = hi - 1;
  try {
    while (cand >= lo && seqs.length < limit) {
      if (steps >= STEP_BUDGET) return { seqs, next: cand + 1, steps, truncated: true };
      // Leapfrog: the first list proposes, the others confirm or move the candidate down.
      const s = await lists[0]!.seekLE(cand);
      steps++;
      if (s === null) break;
      let agreed = true;
      for (let i = 1; i < lists.length; i++) {
        const t = await lists[i]!.seekLE(s);
        steps++;
        if (t === null) return { seqs, next: null, steps, truncated: false };
        if (t !== s) {
          cand = t;
          agreed = false;
          break;
        }
      }
      if (agreed) {
        seqs.push(s);
        cand = s - 1;
      }
    }
  } finally {
    await Promise.all(lists.map((l) => l.close()));
  }
  // More may follow only when the page filled; the next page starts below its last session.
  return { seqs, next: seqs.length >= limit && cand >= lo ? seqs[seqs.length - 1]! : null, steps, truncated: false };
}

/** Rows (summary and facts) of sessions by firstSeq, in the given order; sessions without a summary are left out. */
export async function sessionRows(db: Db, seqs: number[], live: (s: SessionSummary) => SessionSummary = (s) => s): Promise<IndexedSession[]> {
  if (!seqs.length) return [];
  const values = await db.getMany([...seqs.map(K.summaryKey), ...seqs.map(K.factsKey)]);
  const out: IndexedSession[] = [];
  for (let i = 0; i < seqs.length; i++) {
    const s = values[i];
    if (!s) continue;
    const f = values[seqs.length + i];
    const payload = f ? untag(K.factsKey(seqs[i]!), f) : null;
    const row = payload ? (JSON.parse(payload.toString('utf8')) as FactsRow) : emptyRow();
    out.push({ summary: live(JSON.parse(s.toString('utf8')) as SessionSummary), facts: row.facts });
  }
  return out;
}

/** One page of the sessions matching every filter and search word, newest first. */
export async function querySessionIndex(db: Db, q: SessionIndexQuery, live?: (s: SessionSummary) => SessionSummary): Promise<SessionIndexPage> {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(q.limit)));
  const prefixes = postingPrefixes(q);
  if (prefixes === null) return { sessions: [], next: null, steps: 0, truncated: false };
  const [lo, hi] = await seqBounds(db, q);
  if (lo >= hi) return { sessions: [], next: null, steps: 0, truncated: false };
  // No filter: every session has a summary keyed by its firstSeq, the same order.
  const m = await matchSeqs(db, prefixes.length ? prefixes : [K.SUMMARY_PREFIX], lo, hi, limit);
  return { sessions: await sessionRows(db, m.seqs, live), next: m.next, steps: m.steps, truncated: m.truncated };
}

/**
 * Sessions with a record at or after `since` (the live view and `sessions tail`), newest activity
 * first: the records since then are read (at most `maxRecords` of the newest), so keep the window short.
 */
export async function activeSessionSeqs(db: Db, since: number, maxRecords = 20_000): Promise<number[]> {
  const last = await lastEntry(db);
  if (!last) return [];
  const size = last.seq + 1;
  const from = Math.max(await seqAtTime(db, size, since), size - maxRecords);
  const sessions = new Map<string, null>();
  await withReader(db, {}, async (reader) => {
    for (let seq = size - 1; seq >= from; seq--) {
      const e = await reader.get(seq);
      if (e) sessions.set(decodeRecord(e.record).session, null);
    }
  });
  const ids = [...sessions.keys()];
  const firsts = await db.getMany(ids.map(K.sessionIdKey));
  return firsts.map((v) => (v ? K.parseHex(v.toString(), 16) : null)).filter((s): s is number => s !== null);
}
