// verify's check of the secondary indexes (f/, v/, w/, x/): every entry well-formed, its tag matching
// its key and payload (tag.ts), and naming a session that starts below the log's size.
import type { Db } from '../store.js';
import * as K from '../layout.js';
import { untag } from './tag.js';

export const INDEX_PREFIXES = [K.FACTS_PREFIX, K.WORDS_OF_PREFIX, K.WORD_PREFIX, K.FIELD_PREFIX] as const;

/** The first damaged index entry (key and why), or null. Reads every entry once. */
export async function checkIndexes(db: Db, size: number, snapshot: unknown): Promise<{ key: string; why: string } | null> {
  for (const prefix of INDEX_PREFIXES) {
    const it = db.iterator({ ...K.prefixRange(prefix), snapshot } as object);
    try {
      for (;;) {
        const batch = (await it.nextv(1000)) as [string, Buffer][];
        if (!batch.length) break;
        for (const [key, value] of batch) {
          const payload = untag(key, value);
          if (payload === null) return { key, why: 'its value does not match its key' };
          const seq = prefix === K.WORDS_OF_PREFIX ? K.parseHex(key.slice(prefix.length), 16) : K.indexKeySeq(key);
          if (seq === null || seq >= size) return { key, why: 'it names no record of the log' };
          if (prefix !== K.FACTS_PREFIX && prefix !== K.WORDS_OF_PREFIX && key.charCodeAt(key.length - 17) !== 0) return { key, why: 'it is malformed' };
        }
      }
    } finally {
      await it.close();
    }
  }
  return null;
}
