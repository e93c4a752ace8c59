// Secondary indexes maintained at ingest, in the same LevelDB batch as the records they derive from
// (so the store is consistent with itself after any crash): per session a facts row (f/), its index
// values (x/<field>/<value>) and the words of its masked prompts and answers (w/<word>, with v/ per
// exchange for retention). Open sessions' fold state lives here; ended sessions leave. After a
// restart or a store reopen, `restore` resumes every open session from its facts row and re-reads
// the records of its unfinished exchanges, so replaying records (idempotent by seq) yields the same keys.
import type { Db } from '../store.js';
import * as K from '../layout.js';
import { decodeRecord } from '../record.js';
import type { AuditRecord } from '../types.js';
import { withReader } from '../blocks.js';
import { words } from './tokens.js';
import { tagged, untag } from './tag.js';
import {
  beginExchange,
  completeExchange,
  decisionOf,
  emptyRow,
  foldRequest,
  foldResponse,
  foldSession,
  indexValue,
  indexValues,
  newPending,
  type FactsRow,
  type PendingExchange,
} from './facts.js';

export type IndexOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/** What the indexer needs of one ingested record. */
export interface IndexInput {
  seq: number;
  session: string;
  record: Buffer;
  body: Buffer | null;
  users: readonly string[];
}

interface SessionIndexState {
  firstSeq: number;
  row: FactsRow;
  users: string[];
  pending: Map<number, PendingExchange>;
  /** Index keys (x/) already written for this session. */
  fieldKeys: Set<string>;
  /** Words already posted for this session (bounded; a repeat put is harmless). */
  posted: Set<string>;
  dirty: boolean;
}

/** Chunk bytes held for one unfinished exchange, and for all of them. */
const MAX_EXCHANGE_CHUNK_BYTES = 4 << 20;
const MAX_HELD_CHUNK_BYTES = 64 << 20;
const MAX_POSTED = 20_000;

export class SessionIndexer {
  private readonly open = new Map<string, SessionIndexState>();
  private held = 0;

  /** Folds one record (in seq order, each seq once) and appends the index writes it causes. */
  add(it: IndexInput, firstSeq: number, ops: IndexOp[]): void {
    let st = this.open.get(it.session);
    if (!st) {
      st = this.fresh(firstSeq, emptyRow());
      this.open.set(it.session, st);
      st.dirty = true;
    }
    const r = decodeRecord(it.record);
    for (const u of it.users) if (!st.users.includes(u) && st.users.length < 16) (st.users.push(u), (st.dirty = true));
    const before = st.row.facts.decision;
    foldSession(st.row, r);
    const began = this.foldExchange(st, r, it.body, ops);
    if (r.kind === 'session-end') for (const x of [...st.pending.values()]) this.complete(st, x, 'open', null, ops);
    st.row.facts.decision = decisionOf(st.row);
    if (st.row.facts.decision !== before) {
      const old = K.fieldKey('decision', before, st.firstSeq);
      st.fieldKeys.delete(old);
      ops.push({ type: 'del', key: old });
    }
    // Chunks change only the in-memory state of their exchange; everything else may change the row.
    if (r.kind !== 'chunk' || began) st.dirty = true;
  }

  /** Writes the facts rows and index values of the sessions changed since the last flush; ended sessions leave. */
  flush(ops: IndexOp[], ended: (session: string) => boolean): void {
    for (const [session, st] of this.open) {
      if (st.dirty) {
        st.dirty = false;
        const fk = K.factsKey(st.firstSeq);
        ops.push({ type: 'put', key: fk, value: tagged(fk, Buffer.from(JSON.stringify(st.row))) });
        for (const [field, v] of indexValues(st.row.facts, st.users)) {
          const key = K.fieldKey(field, indexValue(field, v), st.firstSeq);
          if (st.fieldKeys.has(key)) continue;
          st.fieldKeys.add(key);
          ops.push({ type: 'put', key, value: tagged(key) });
        }
      }
      if (ended(session)) this.drop(st, session);
    }
  }

  /** Forgets every open session (the store is being reloaded: restore() follows). */
  reset(): void {
    this.open.clear();
    this.held = 0;
  }

  /** Retention deleted the postings below a cut: let open sessions post their words again. */
  forgetPosted(): void {
    for (const st of this.open.values()) st.posted.clear();
  }

  /**
   * Resumes the open sessions as of what LevelDB holds: each from its facts row, its unfinished
   * exchanges re-read from their first record on (back pointers from the session's last record).
   */
  async restore(db: Db, sessions: Array<{ session: string; firstSeq: number; lastSeq: number; users: string[] }>): Promise<void> {
    this.reset();
    for (const s of sessions) {
      const fk = K.factsKey(s.firstSeq);
      const v = await db.get(fk);
      const payload = v ? untag(fk, v) : null;
      if (v && !payload) throw new Error(`audit store is inconsistent: the facts row of the session at seq ${s.firstSeq} is damaged; run wiretrail verify`);
      const row = payload ? (JSON.parse(payload.toString('utf8')) as FactsRow) : emptyRow();
      const st = this.fresh(s.firstSeq, row);
      st.users = [...s.users];
      for (const [field, val] of indexValues(row.facts, st.users)) st.fieldKeys.add(K.fieldKey(field, indexValue(field, val), s.firstSeq));
      this.open.set(s.session, st);
      const pendingFrom = Math.min(...Object.values(row.fold.pending));
      if (!Number.isFinite(pendingFrom)) continue;
      const starts = new Map(Object.entries(row.fold.pending).map(([n, seq]) => [Number(n), seq]));
      for (const [n, seq] of starts) st.pending.set(n, newPending(n, seq, 0));
      const recs = await recordsBack(db, s.lastSeq, pendingFrom);
      const ignored: IndexOp[] = []; // the postings are in LevelDB already (same batch as the request)
      for (const { record, body } of recs) {
        const r = decodeRecord(record);
        const n = r.meta['n'];
        const x = typeof n === 'number' ? st.pending.get(n) : undefined;
        if (!x || r.seq < x.firstSeq) continue;
        // Re-derive the exchange's held state; its words are re-posted (same keys) by the next write.
        if (r.kind === 'request') this.postWords(st, x, foldRequestReplay(st.row, x, r, body), ignored);
        else this.hold(x, r, body);
      }
      st.posted.clear();
    }
  }

  private fresh(firstSeq: number, row: FactsRow): SessionIndexState {
    return { firstSeq, row, users: [], pending: new Map(), fieldKeys: new Set(), posted: new Set(), dirty: false };
  }

  private drop(st: SessionIndexState, session: string): void {
    for (const x of st.pending.values()) this.held -= x.chunkBytes;
    this.open.delete(session);
  }

  /** Folds a record of an exchange (meta.n); true when it began one. */
  private foldExchange(st: SessionIndexState, r: AuditRecord, body: Buffer | null, ops: IndexOp[]): boolean {
    const n = r.meta['n'];
    if (typeof n !== 'number') return false;
    let x = st.pending.get(n);
    let began = false;
    if (!x) {
      if (!beginExchange(st.row, n, r.seq)) return false; // a late record of a completed exchange
      x = newPending(n, r.seq, r.ts);
      st.pending.set(n, x);
      began = true;
    }
    if (r.kind === 'request') this.postWords(st, x, foldRequest(st.row, x, r, body), ops);
    else if (r.kind === 'response-head' || r.kind === 'chunk') this.hold(x, r, body);
    else if (r.kind === 'response-end') this.complete(st, x, 'complete', r, ops);
    else if (r.kind === 'error') this.complete(st, x, 'error', r, ops);
    else if (r.kind === 'deny') this.complete(st, x, 'denied', r, ops);
    return began;
  }

  private hold(x: PendingExchange, r: AuditRecord, body: Buffer | null): void {
    const room = Math.min(MAX_EXCHANGE_CHUNK_BYTES - x.chunkBytes, MAX_HELD_CHUNK_BYTES - this.held);
    // A copy: the item's body may be a view into a larger buffer that should not stay alive.
    this.held += foldResponse(x, r, body && body.length <= room ? Buffer.from(body) : null, room);
  }

  private complete(st: SessionIndexState, x: PendingExchange, outcome: 'complete' | 'denied' | 'error' | 'open', end: AuditRecord | null, ops: IndexOp[]): void {
    const answer = completeExchange(st.row, x, outcome, end);
    this.held -= x.chunkBytes;
    x.chunks = [];
    x.chunkBytes = 0;
    st.pending.delete(x.n);
    this.postWords(st, x, answer, ops);
  }

  /** Posts the text's words not yet posted for the session, and rewrites the exchange's word list (v/). */
  private postWords(st: SessionIndexState, x: PendingExchange, text: string, ops: IndexOp[]): void {
    let added = false;
    for (const w of words(text)) {
      if (st.posted.has(w)) continue;
      if (st.posted.size >= MAX_POSTED) st.posted.clear();
      st.posted.add(w);
      x.words.add(w);
      const key = K.wordKey(w, st.firstSeq);
      ops.push({ type: 'put', key, value: tagged(key) });
      added = true;
    }
    const vk = K.wordsOfKey(x.firstSeq);
    if (added || x.words.size) ops.push({ type: 'put', key: vk, value: tagged(vk, Buffer.from(`${K.hex(st.firstSeq, 16)}\n${[...x.words].join('\n')}`)) });
  }
}

/** foldRequest without counting the exchange's facts twice (they are in the stored row already). */
function foldRequestReplay(row: FactsRow, x: PendingExchange, r: AuditRecord, body: Buffer | null): string {
  const copy: FactsRow = JSON.parse(JSON.stringify(row)) as FactsRow;
  x.findings = 0;
  const text = foldRequest(copy, x, r, body);
  return text;
}

/** A session's records from `from` on, walking back from `last` along the back pointers, in seq order. */
async function recordsBack(db: Db, last: number, from: number): Promise<Array<{ record: Buffer; body: Buffer | null }>> {
  return withReader(db, {}, async (reader) => {
    const out: Array<{ record: Buffer; body: Buffer | null }> = [];
    let seq: number | null = last;
    while (seq !== null && seq >= from) {
      const e = await reader.get(seq);
      if (!e) throw new Error(`audit store is inconsistent: record ${seq} is missing; run wiretrail verify`);
      out.push({ record: Buffer.from(e.record), body: e.body ? Buffer.from(e.body) : null });
      seq = e.prev;
    }
    return out.reverse();
  });
}
