// Retention: bodies of records older than retention.days are deleted, and gone from the disk. A
// 'retention' record naming the cut (prunedBefore) is recorded first, so verify tells pruned bodies
// from deleted ones; then the blocks below the cut are rewritten without bodies and that key range is
// compacted, so LevelDB drops the table files that still held the old bodies (a rewrite alone leaves
// them on disk until compaction happens to reach them). Segments never hold old bodies: they are
// deleted once a durable checkpoint covers them.
import type { Logger } from 'pino';
import type { AppendInput, AppendResult } from './types.js';
import * as K from './layout.js';
import { decodeRecord } from './record.js';
import { stripBodies } from './value.js';
import { findBlock, withReader } from './blocks.js';
import type { Ingester } from './ingest.js';
import { compactRange } from './store.js';
import { pruneWordIndex } from './index/index.js';

const DAY_MS = 86_400_000;

export interface RetentionDeps {
  ingester: Ingester;
  /** Appends through the writer (the retention record and its session end). */
  append(input: AppendInput, end?: boolean): Promise<AppendResult>;
  /** Records appended so far. */
  size(): number;
  log: Logger;
}

/** First seq whose record is not older than `cutoff` (binary search over the ts-ordered log). */
async function firstAtOrAfter(ing: Ingester, lo: number, hi: number, cutoff: number): Promise<number> {
  return withReader(ing.db, {}, async (reader) => {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await reader.get(mid);
      if (!e) throw new Error(`record ${mid} is missing; run wiretrail verify`);
      if (decodeRecord(e.record).ts < cutoff) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

export async function prune(deps: RetentionDeps, days: number, now: number): Promise<{ prunedBefore: number; previous: number }> {
  const ing = deps.ingester;
  const previous = ing.prunedBefore;
  await ing.caughtUp(deps.size());
  const cutoff = now - days * DAY_MS;
  const lo = await firstAtOrAfter(ing, previous, ing.size, cutoff);
  if (lo <= previous) return { prunedBefore: previous, previous };
  // Record the cut first (the ingester sets the retention marker with it), then strip the bodies below it.
  const session = `wiretrail-retention-${lo}-${now}`;
  await deps.append({ session, kind: 'retention', meta: { prunedBefore: lo, cutoff, days } });
  await deps.append({ session, kind: 'session-end', meta: {} }, true);
  await ing.caughtUp(deps.size());
  ing.prunedBefore = lo;
  const db = ing.db;
  const startBlock = await findBlock(db, previous);
  const from = startBlock ? startBlock[0]!.seq : 0;
  let blocks = 0;
  let batch: { type: 'put'; key: string; value: Buffer }[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await db.batch(batch);
    blocks += batch.length;
    batch = [];
  };
  for await (const [key, value] of db.iterator({ gte: K.recordKey(from), lt: K.recordKey(lo) })) {
    const first = K.parseHex(key.slice(K.RECORD_PREFIX.length), 16);
    if (first === null) continue;
    batch.push({ type: 'put', key, value: stripBodies(first, value, lo) });
    if (batch.length >= 64) await flush();
  }
  await flush();
  // Pruned means gone: compaction writes the range anew and deletes the table files (and, by flushing
  // the memtable first, the write-ahead log) that still carried the old bodies.
  await compactRange(db, K.recordKey(from), K.recordKey(lo));
  // The words of pruned prompts and answers go with them (and open sessions may post them again).
  const words = await pruneWordIndex(db, lo);
  ing.index.forgetPosted();
  deps.log.info({ prunedBefore: lo, days, blocks, words }, 'audit: retention pruned old bodies');
  return { prunedBefore: lo, previous };
}
