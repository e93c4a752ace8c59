// Tamper helpers for tests: edit records inside the store's blocks the way an attacker with disk access could.
import type { Level } from 'level';
import { decodeBlock, encodeEntry, type Entry } from '../../src/audit/value.js';
import { RECORD_END, RECORD_PREFIX, recordKey } from '../../src/audit/layout.js';

type Db = Level<string, Buffer>;

/** The block holding seq: its key, first seq and entries. */
export async function blockOf(db: Db, seq: number): Promise<{ key: string; first: number; entries: Entry[] }> {
  const [hit] = await db.iterator({ lte: recordKey(seq), gte: RECORD_PREFIX, reverse: true, limit: 1 }).all();
  if (!hit) throw new Error(`no block for ${seq}`);
  const first = parseInt(hit[0].slice(2), 16);
  return { key: hit[0], first, entries: decodeBlock(first, hit[1]) };
}

export async function writeBlock(db: Db, k: string, entries: Entry[]): Promise<void> {
  if (!entries.length) return db.del(k);
  await db.put(k, Buffer.concat(entries.map((e) => encodeEntry(e.prev, Buffer.from(e.record), e.body ? Buffer.from(e.body) : undefined))));
}

/** Applies `fn` to the entry of `seq` (copies of its bytes) and writes the block back. */
export async function editEntry(db: Db, seq: number, fn: (e: Entry) => Entry | null): Promise<void> {
  const b = await blockOf(db, seq);
  const i = seq - b.first;
  const e = b.entries[i]!;
  const copy = { ...e, record: Buffer.from(e.record), body: e.body ? Buffer.from(e.body) : null };
  const out = fn(copy);
  const entries = [...b.entries];
  if (out) entries[i] = out;
  else entries.splice(i, 1);
  await writeBlock(db, b.key, entries);
}

/** Removes every record from seq on (the tail). */
export async function truncateFrom(db: Db, seq: number): Promise<void> {
  const b = await blockOf(db, seq);
  await writeBlock(db, b.key, b.entries.slice(0, seq - b.first));
  await db.clear({ gt: b.key, lt: RECORD_END });
}
