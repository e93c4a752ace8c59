// LevelDB key layout. Fixed-width lower-case hex keeps lexicographic order equal to numeric order.
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
//   m/retention               seq16 of the latest retention record
// Everything but b/ and c/ is derived from the records and cross-checked by verify.

export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

export const RECORD_PREFIX = 'b/';
export const RECORD_END = 'b0';
export const recordKey = (seq: number) => `b/${hex(seq, 16)}`;
export const tileKey = (level: number, index: number) => `t/${hex(level, 2)}/${hex(index, 12)}`;
export const checkpointKey = (size: number) => `c/${hex(size, 16)}`;
export const summaryKey = (firstSeq: number) => `s/${hex(firstSeq, 16)}`;
export const sessionIdKey = (session: string) => `i/${session}`;
export const openKey = (firstSeq: number) => `o/${hex(firstSeq, 16)}`;
export const RETENTION_KEY = 'm/retention';

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
