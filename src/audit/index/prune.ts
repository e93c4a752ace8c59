// Retention for the full-text index: pruned means gone. The words of every exchange that began below
// the cut (its v/ list) lose their postings, and the key ranges are compacted so the words leave the
// table files too. A session open across the cut keeps its facts and index values (they come from
// record meta, which stays) but the words it posted in pruned exchanges go, even where a later,
// kept exchange repeated them (postings are per session): a search errs on the side of forgetting.
import type { Db } from '../store.js';
import * as K from '../layout.js';
import { compactRange } from '../store.js';
import { untag } from './tag.js';

const BATCH = 2000;

/** Deletes the postings of exchanges that began below `prunedBefore`; returns how many postings went. */
export async function pruneWordIndex(db: Db, prunedBefore: number): Promise<number> {
  let ops: Array<{ type: 'del'; key: string }> = [];
  let deleted = 0;
  const flush = async () => {
    if (!ops.length) return;
    await db.batch(ops);
    ops = [];
  };
  for await (const [key, value] of db.iterator({ gte: K.WORDS_OF_PREFIX, lt: K.wordsOfKey(prunedBefore) })) {
    const lines = (untag(key, value) ?? Buffer.alloc(0)).toString('utf8').split('\n');
    const first = K.parseHex(lines[0] ?? '', 16);
    if (first !== null) {
      for (const w of lines.slice(1)) if (w) (ops.push({ type: 'del', key: K.wordKey(w, first) }), deleted++);
    }
    ops.push({ type: 'del', key });
    if (ops.length >= BATCH) await flush();
  }
  await flush();
  if (deleted) {
    await compactRange(db, K.WORDS_OF_PREFIX, K.prefixEnd(K.WORDS_OF_PREFIX));
    await compactRange(db, K.WORD_PREFIX, K.prefixEnd(K.WORD_PREFIX));
  }
  return deleted;
}
