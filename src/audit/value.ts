// Records are stored in blocks: one LevelDB entry per group-commit batch, key b/<first seq>, value
// the batch's records back to back. One put per batch instead of one per record measured 1.7x more
// appends per CPU-second (the per-operation cost of LevelDB batches dominated). Each entry:
//   [0]      format (1)
//   [1]      flags: bit 0 = body present
//   [2..8)   previous seq of the same session + 1, 48-bit big-endian (0: first record of its session)
//   [8..12)  record length, 32-bit big-endian
//   [12..16) body length, 32-bit big-endian (0 when absent)
//   record bytes (canonical JSON), then body bytes
// Entry i of block b/<F> holds seq F + i. Retention rewrites blocks without their bodies.

import { leafHashOfPrefixed } from './merkle.js';

export const VALUE_FORMAT = 1;
export const ENTRY_HEADER = 16;
const FLAG_BODY = 1;

export interface Entry {
  seq: number;
  prev: number | null;
  record: Buffer;
  body: Buffer | null;
}

export function encodeEntry(prev: number | null, record: Buffer, body: Uint8Array | undefined): Buffer {
  const blen = body?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(ENTRY_HEADER + record.length + blen);
  writeHeader(out, 0, prev, record.length, body);
  record.copy(out, ENTRY_HEADER);
  if (body) out.set(body, ENTRY_HEADER + record.length);
  return out;
}

function writeHeader(out: Buffer, off: number, prev: number | null, rlen: number, body: Uint8Array | undefined): void {
  out[off] = VALUE_FORMAT;
  out[off + 1] = body ? FLAG_BODY : 0;
  out.writeUIntBE(prev === null ? 0 : prev + 1, off + 2, 6);
  out.writeUInt32BE(rlen, off + 8);
  out.writeUInt32BE(body?.byteLength ?? 0, off + 12);
}

/**
 * Lays out a group-commit batch as one block, writing each record's text straight into the block
 * buffer (no buffer per record) and hashing it in place: the leaf hash SHA-256(0x00 ‖ record) is
 * taken over the record with the byte before it, the last header byte, set to 0x00 until the
 * header is written.
 */
export class BlockBuilder {
  private buf: Buffer;
  private off = 0;
  length = 0;

  constructor(estimateBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(estimateBytes, 1024));
  }

  /** Appends a record (canonical text) and its body; returns the record's leaf hash (hex). */
  add(prev: number | null, text: string, body: Uint8Array | undefined): string {
    const blen = body?.byteLength ?? 0;
    const need = this.off + ENTRY_HEADER + text.length * 3 + blen; // UTF-8 is at most 3 bytes per UTF-16 unit
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.off);
      this.buf = grown;
    }
    const at = this.off + ENTRY_HEADER;
    const rlen = this.buf.write(text, at, 'utf8');
    this.buf[at - 1] = 0;
    const leaf = leafHashOfPrefixed(this.buf.subarray(at - 1, at + rlen));
    writeHeader(this.buf, this.off, prev, rlen, body);
    if (body) this.buf.set(body, at + rlen);
    this.off = at + rlen + blen;
    this.length++;
    return leaf;
  }

  /** Appends a record whose bytes and leaf hash are already known (records ingested from segments). */
  addEncoded(prev: number | null, record: Uint8Array, body: Uint8Array | null): void {
    const blen = body?.byteLength ?? 0;
    const need = this.off + ENTRY_HEADER + record.byteLength + blen;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.off);
      this.buf = grown;
    }
    writeHeader(this.buf, this.off, prev, record.byteLength, body ?? undefined);
    this.buf.set(record, this.off + ENTRY_HEADER);
    if (body) this.buf.set(body, this.off + ENTRY_HEADER + record.byteLength);
    this.off = need;
    this.length++;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

/** Decodes a whole block; throws when it is not well-formed. */
export function decodeBlock(firstSeq: number, v: Buffer): Entry[] {
  const out: Entry[] = [];
  let off = 0;
  while (off < v.length) {
    if (v.length - off < ENTRY_HEADER || v[off] !== VALUE_FORMAT || (v[off + 1]! & ~FLAG_BODY) !== 0) throw new Error('malformed record block');
    const rlen = v.readUInt32BE(off + 8);
    const blen = v.readUInt32BE(off + 12);
    const hasBody = (v[off + 1]! & FLAG_BODY) !== 0;
    const end = off + ENTRY_HEADER + rlen + blen;
    if (end > v.length || (!hasBody && blen !== 0) || rlen === 0) throw new Error('malformed record block');
    const p = v.readUIntBE(off + 2, 6);
    out.push({
      seq: firstSeq + out.length,
      prev: p === 0 ? null : p - 1,
      record: v.subarray(off + ENTRY_HEADER, off + ENTRY_HEADER + rlen),
      body: hasBody ? v.subarray(off + ENTRY_HEADER + rlen, end) : null,
    });
    off = end;
  }
  if (!out.length) throw new Error('empty record block');
  return out;
}

/** Number of entries in a well-formed block (the checks decodeBlock makes), or null when malformed. */
export function entryCount(v: Buffer): number | null {
  let n = 0;
  let off = 0;
  while (off < v.length) {
    if (v.length - off < ENTRY_HEADER || v[off] !== VALUE_FORMAT || (v[off + 1]! & ~FLAG_BODY) !== 0) return null;
    const rlen = v.readUInt32BE(off + 8);
    const blen = v.readUInt32BE(off + 12);
    const end = off + ENTRY_HEADER + rlen + blen;
    if (end > v.length || ((v[off + 1]! & FLAG_BODY) === 0 && blen !== 0) || rlen === 0) return null;
    n++;
    off = end;
  }
  return n || null;
}

/** The block without the bodies of entries below `beforeSeq` (retention). */
export function stripBodies(firstSeq: number, v: Buffer, beforeSeq: number): Buffer {
  return Buffer.concat(decodeBlock(firstSeq, v).map((e) => encodeEntry(e.prev, e.record, e.seq < beforeSeq ? undefined : (e.body ?? undefined))));
}
