// Order-independent digest of a multiset of strings: lane-wise sum (mod 2^32) of SHA-256 words.
// verify derives the expected index entries while streaming records and compares them with the
// stored index in key order, in constant memory. It detects accidental or single-point changes of
// derived data; the evidence itself (records, bodies, checkpoints) is protected by hashes and signatures.
import { hash } from 'node:crypto';

export class MultisetDigest {
  private readonly lanes = new Uint32Array(8);
  count = 0;

  add(item: string | Buffer): void {
    const h = hash('sha256', item, 'buffer');
    for (let i = 0; i < 8; i++) this.lanes[i] = (this.lanes[i]! + h.readUInt32LE(i * 4)) >>> 0;
    this.count++;
  }

  equals(other: MultisetDigest): boolean {
    return this.count === other.count && this.lanes.every((v, i) => v === other.lanes[i]);
  }
}
