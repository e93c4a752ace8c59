// The storage layout of the audit log, in one place (after tessera's api/layout): every LevelDB key
// prefix and every file under the data folder. No other module spells a prefix or a path.
//
// LevelDB (<data>/log). Fixed-width lower-case hex keeps lexicographic order equal to numeric order.
//   b/<seq16>                 a block of records from that seq: header (back pointer), canonical record bytes, body (value.ts);
//                             the lowest prefix on purpose: blocks are the bulk of the data and only ever appended at
//                             the top of their range, so new LevelDB files do not overlap older blocks and compaction
//                             rewrites them less (measured 25-30% less compaction CPU than under r/, between c/ and s/)
//   t/<level2>/<index12>      Merkle tree tile: up to 256 hashes of tree level 8*level (tree.ts)
//   c/<size16>                signed checkpoint note for tree size <size>
//   s/<firstSeq16>            session summary (canonical JSON), keyed by the session's first seq;
//                             written at its first record, at its end and, while open, with each checkpoint
//   i/<session id>            session id -> firstSeq16
//   o/<firstSeq16>            marker: session not yet ended
//   f/<firstSeq16>            session facts for lists and filters (index/facts.ts): identity, CI claims, agent, host,
//                             models, requests, tokens, masked count, decision, plus the fold state of open exchanges
//   x/<field>/<value>\0<firstSeq16>   secondary index: sessions by user, group, repository, agent, host, model,
//                             decision (values lower-cased except user; index/indexer.ts); newest first = reverse order
//   w/<token>\0<firstSeq16>   full-text index: a word of the session's masked prompts or answers (index/tokens.ts)
//   v/<exchangeFirstSeq16>    the words an exchange added to w/ (sessionFirstSeq16, then one word per line), so
//                             retention deletes exactly the postings of pruned exchanges
//   m/retention               seq16 of the latest retention record
//   m/probe                   written and deleted by a synced batch to prove the store writes again
// Everything but b/ and c/ is derived from the records and cross-checked by verify.
//
// Files (<data>/):
//   log/                      the LevelDB store
//   segments/<seq16>.seg      append-only segment files, named by the seq of their first record (segment.ts);
//                             records live here from the moment they are appended until LevelDB holds them
//                             under a durable checkpoint
//   checkpoints/latest        the newest durable checkpoint (publish.ts)
import { join } from 'node:path';

export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

export const RECORD_PREFIX = 'b/';
export const RECORD_END = 'b0';
export const TILE_PREFIX = 't/';
export const CHECKPOINT_PREFIX = 'c/';
export const SUMMARY_PREFIX = 's/';
export const SESSION_ID_PREFIX = 'i/';
export const OPEN_PREFIX = 'o/';
export const META_PREFIX = 'm/';
export const FACTS_PREFIX = 'f/';
export const FIELD_PREFIX = 'x/';
export const WORD_PREFIX = 'w/';
export const WORDS_OF_PREFIX = 'v/';
/** Record keys of an earlier development build (refused on open). */
export const LEGACY_RECORD_PREFIX = 'r/';
/** Every prefix the store may hold; verify reports anything else. */
export const KNOWN_PREFIXES = [RECORD_PREFIX, CHECKPOINT_PREFIX, FACTS_PREFIX, SESSION_ID_PREFIX, META_PREFIX, OPEN_PREFIX, SUMMARY_PREFIX, TILE_PREFIX, WORDS_OF_PREFIX, WORD_PREFIX, FIELD_PREFIX] as const;

export const recordKey = (seq: number) => `${RECORD_PREFIX}${hex(seq, 16)}`;
export const tileKey = (level: number, index: number) => `${TILE_PREFIX}${hex(level, 2)}/${hex(index, 12)}`;
export const checkpointKey = (size: number) => `${CHECKPOINT_PREFIX}${hex(size, 16)}`;
export const summaryKey = (firstSeq: number) => `${SUMMARY_PREFIX}${hex(firstSeq, 16)}`;
export const sessionIdKey = (session: string) => `${SESSION_ID_PREFIX}${session}`;
export const openKey = (firstSeq: number) => `${OPEN_PREFIX}${hex(firstSeq, 16)}`;
export const factsKey = (firstSeq: number) => `${FACTS_PREFIX}${hex(firstSeq, 16)}`;
/** Index keys end in NUL + firstSeq16: NUL sorts first, so one value's keys never interleave with a longer value's. */
export const fieldValuePrefix = (field: string, value: string) => `${FIELD_PREFIX}${field}/${value}\0`;
export const fieldKey = (field: string, value: string, firstSeq: number) => `${fieldValuePrefix(field, value)}${hex(firstSeq, 16)}`;
export const wordPrefix = (word: string) => `${WORD_PREFIX}${word}\0`;
export const wordKey = (word: string, firstSeq: number) => `${wordPrefix(word)}${hex(firstSeq, 16)}`;
export const wordsOfKey = (exchangeFirstSeq: number) => `${WORDS_OF_PREFIX}${hex(exchangeFirstSeq, 16)}`;
/** The firstSeq at the end of an index key (x/ and w/), or null. */
export const indexKeySeq = (key: string): number | null => parseHex(key.slice(-16), 16);
export const RETENTION_KEY = `${META_PREFIX}retention`;
export const PROBE_KEY = `${META_PREFIX}probe`;

/** The key range of one prefix, for LevelDB iterators ({gte, lt}). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefixEnd(prefix) };
}

const HEX16 = /^[0-9a-f]{16}$/;
const HEX12 = /^[0-9a-f]{12}$/;

/** Parses a fixed-width hex field; returns null when it is not exactly that. */
export function parseHex(s: string, width: 12 | 16 | 2): number | null {
  if (width === 16 ? !HEX16.test(s) : width === 12 ? !HEX12.test(s) : !/^[0-9a-f]{2}$/.test(s)) return null;
  const n = parseInt(s, 16);
  return Number.isSafeInteger(n) ? n : null;
}

/** Upper bound for a prefix range: keys starting with `prefix` are >= prefix and < prefixEnd(prefix). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

// Files under the data folder.
export const STORE_DIR = 'log';
export const SEGMENT_DIR = 'segments';
export const SEGMENT_SUFFIX = '.seg';
const SEGMENT_NAME = /^([0-9a-f]{16})\.seg$/;

export const storePath = (dataDir: string) => join(dataDir, STORE_DIR);
export const segmentDir = (dataDir: string) => join(dataDir, SEGMENT_DIR);
export const segmentName = (firstSeq: number) => `${hex(firstSeq, 16)}${SEGMENT_SUFFIX}`;

/** The first seq a segment file name carries, or null when the name is not a segment's. */
export function parseSegmentName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  return m ? parseHex(m[1]!, 16) : null;
}
