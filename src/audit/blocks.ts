// Reading records out of blocks (value.ts): by seq, in order from a seq, and the last one.
import type { Db } from './store.js';
import * as K from './layout.js';
import { decodeBlock, type Entry } from './value.js';

type ReadOpts = { snapshot?: unknown };

/** The block holding `seq` (the entry with the greatest first seq <= seq), decoded; null when none. */
export async function findBlock(db: Db, seq: number, opts: ReadOpts = {}): Promise<Entry[] | null> {
  const got = await db.iterator({ lte: K.recordKey(seq), gte: K.RECORD_PREFIX, reverse: true, limit: 1, ...opts } as object).all();
  const hit = got[0] as [string, Buffer] | undefined;
  if (!hit) return null;
  const first = K.parseHex(hit[0].slice(2), 16);
  if (first === null) throw new Error(`audit store is inconsistent: bad record key ${hit[0]}; run wiretrail verify`);
  return decodeBlock(first, hit[1]);
}

/**
 * Random access by seq with the last block cached (session walks and exports hit the same blocks).
 * One reverse iterator is re-seeked for every lookup (much cheaper than a new iterator each time);
 * it reads one consistent view of the store. close() when done.
 */
export class EntryReader {
  private block: Entry[] | null = null;
  private it: ReturnType<Db['iterator']> | null = null;
  constructor(
    private readonly db: Db,
    private readonly opts: ReadOpts = {},
  ) {}

  async get(seq: number): Promise<Entry | null> {
    const b = this.block;
    if (b && seq >= b[0]!.seq && seq < b[0]!.seq + b.length) return b[seq - b[0]!.seq]!;
    if (!Number.isSafeInteger(seq) || seq < 0) return null;
    this.it ??= this.db.iterator({ gte: K.RECORD_PREFIX, lt: K.RECORD_END, reverse: true, ...this.opts } as object);
    this.it.seek(K.recordKey(seq));
    const hit = ((await this.it.nextv(1)) as [string, Buffer][])[0];
    if (!hit) return null;
    const first = K.parseHex(hit[0].slice(2), 16);
    if (first === null) throw new Error(`audit store is inconsistent: bad record key ${hit[0]}; run wiretrail verify`);
    const found = decodeBlock(first, hit[1]);
    this.block = found;
    const e = found[seq - first];
    return e && e.seq === seq ? e : null;
  }

  /** Entries for seqs (in the given order); throws naming the first missing one. */
  async getMany(seqs: number[]): Promise<Entry[]> {
    const out: Entry[] = [];
    for (const s of seqs) {
      const e = await this.get(s);
      if (!e) throw new Error(`audit store is inconsistent: record ${s} is missing; run wiretrail verify`);
      out.push(e);
    }
    return out;
  }

  async close(): Promise<void> {
    const it = this.it;
    this.it = null;
    this.block = null;
    if (it) await it.close();
  }
}

/** Runs fn with a reader and closes it afterwards. */
export async function withReader<T>(db: Db, opts: ReadOpts, fn: (r: EntryReader) => Promise<T>): Promise<T> {
  const r = new EntryReader(db, opts);
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

/** Entries with seq >= from, in order. */
export async function* entriesFrom(db: Db, from: number, opts: ReadOpts = {}): AsyncGenerator<Entry> {
  const start = await findBlock(db, from, opts);
  let next = from;
  if (start) {
    for (const e of start) if (e.seq >= from) yield e;
    next = start[0]!.seq + start.length;
  }
  for await (const [key, value] of db.iterator({ gte: K.recordKey(next), lt: K.RECORD_END, ...opts } as object) as AsyncIterable<[string, Buffer]>) {
    const first = K.parseHex(key.slice(2), 16);
    if (first === null) throw new Error(`audit store is inconsistent: bad record key ${key}; run wiretrail verify`);
    for (const e of decodeBlock(first, value)) if (e.seq >= from) yield e;
  }
}

/** The newest record's entry, or null for an empty log. */
export async function lastEntry(db: Db, opts: ReadOpts = {}): Promise<Entry | null> {
  const b = await findBlock(db, Number.MAX_SAFE_INTEGER, opts);
  return b ? b[b.length - 1]! : null;
}
