// RFC 9162 Merkle tree hashing, proof construction and proof verification.
// Sizes and indices may exceed 2^32, so no 32-bit bit operators here.
import { createHash, hash } from 'node:crypto';

// crypto.hash (one-shot) with a string digest is the cheapest SHA-256 call for small inputs: measured
// 0.6 us for a 230-byte record against 1.7 us for a Buffer digest and 2.2 us with Buffer.concat
// (Node 20, this machine). So hashes are taken as hex/latin1 strings and written into place, and
// the 0x00/0x01 prefixes are laid out in reusable scratch buffers instead of concatenated.
let leafScratch = Buffer.alloc(4096);
const PAIR = Buffer.alloc(65);
PAIR[0] = 1;

/** RFC 9162 leaf hash SHA-256(0x00 ‖ data), as hex. */
export function leafHashHex(data: Uint8Array): string {
  const n = data.byteLength + 1;
  if (n > leafScratch.length) leafScratch = Buffer.alloc(Math.max(n, leafScratch.length * 2));
  leafScratch[0] = 0;
  leafScratch.set(data, 1);
  return hash('sha256', leafScratch.subarray(0, n), 'hex');
}

/** Leaf hash of bytes that are already preceded by the 0x00 prefix: `prefixed` is 0x00 ‖ data. */
export function leafHashOfPrefixed(prefixed: Uint8Array): string {
  return hash('sha256', prefixed, 'hex');
}

export function leafHash(data: Uint8Array): Buffer {
  return Buffer.from(leafHashHex(data), 'hex');
}

/**
 * Node hash over two adjacent 32-byte hashes src[off..off+64) (left then right), written to
 * dst[dstOff..dstOff+32). dst may be src (the input is copied out first).
 */
export function nodeHashInto(src: Buffer, off: number, dst: Buffer, dstOff: number): void {
  src.copy(PAIR, 1, off, off + 64);
  dst.write(hash('sha256', PAIR, 'binary'), dstOff, 32, 'latin1');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  PAIR.set(left, 1);
  PAIR.set(right, 33);
  return Buffer.from(hash('sha256', PAIR, 'binary'), 'latin1');
}

export const EMPTY_ROOT = createHash('sha256').digest();

/** Largest power of two strictly less than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[a:b]) provider; ranges asked for are always aligned the way RFC 9162's recursion aligns them. */
export type RangeHash = (a: number, b: number) => Promise<Buffer>;

/** Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size` leaves, bottom-up. */
export async function inclusionProof(index: number, size: number, mth: RangeHash): Promise<Buffer[]> {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is outside a tree of ${size}`);
  const out: Buffer[] = [];
  async function path(m: number, a: number, b: number): Promise<void> {
    const n = b - a;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      await path(m, a, a + k);
      out.push(await mth(a + k, b));
    } else {
      await path(m - k, a + k, b);
      out.push(await mth(a, a + k));
    }
  }
  await path(index, 0, size);
  return out;
}

/** Consistency proof (RFC 9162 §2.1.4.1) between tree sizes m < n. */
export async function consistencyProof(m: number, n: number, mth: RangeHash): Promise<Buffer[]> {
  if (!(m > 0 && m < n)) throw new RangeError(`no consistency proof between sizes ${m} and ${n}`);
  const out: Buffer[] = [];
  async function sub(mm: number, a: number, b: number, complete: boolean): Promise<void> {
    const nn = b - a;
    if (mm === nn) {
      if (!complete) out.push(await mth(a, b));
      return;
    }
    const k = splitPoint(nn);
    if (mm <= k) {
      await sub(mm, a, a + k, complete);
      out.push(await mth(a + k, b));
    } else {
      await sub(mm - k, a + k, b, false);
      out.push(await mth(a, a + k));
    }
  }
  await sub(m, 0, n, true);
  return out;
}

const odd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: computes the root an inclusion proof leads to, or null when malformed. */
export function rootFromInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer | null {
  if (!(index >= 0 && index < size)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  const r = rootFromInclusion(index, size, leaf, proof);
  return r !== null && r.equals(root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(m: number, n: number, proof: Buffer[], oldRoot: Buffer, newRoot: Buffer): boolean {
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (!(m > 0 && m < n) || proof.length === 0) return false;
  let path = proof;
  if (isPow2(m)) path = [oldRoot, ...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

export function isPow2(x: number): boolean {
  if (x < 1) return false;
  while (x > 1) {
    if (odd(x)) return false;
    x = half(x);
  }
  return true;
}

/** Reference MTH over an in-memory list of leaf hashes (tests and small trees). */
export function rootOfLeaves(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return nodeHash(rootOfLeaves(leaves.slice(0, k)), rootOfLeaves(leaves.slice(k)));
}

/**
 * Multi-leaf inclusion proof (bundle format 2): one proof for a set of leaves, the hashes of the
 * maximal subtrees that hold none of them, in the order a depth-first walk of the RFC 9162 tree
 * meets them. Leaves next to each other share every hash above them, so a run of consecutive
 * records costs about two hashes per tree level in all (a compact range), not a path each.
 * `indices`: sorted, distinct, < size.
 */
export async function multiInclusionProof(indices: readonly number[], size: number, mth: RangeHash): Promise<Buffer[]> {
  checkIndices(indices, size);
  const out: Buffer[] = [];
  async function walk(a: number, b: number, lo: number, hi: number): Promise<void> {
    if (lo === hi) {
      out.push(await mth(a, b));
      return;
    }
    if (b - a === 1) return;
    const mid = a + splitPoint(b - a);
    const m = firstAtLeast(indices, lo, hi, mid);
    await walk(a, mid, lo, m);
    await walk(mid, b, m, hi);
  }
  await walk(0, size, 0, indices.length);
  return out;
}

/** The root a multi-leaf proof leads to (null when the proof has too few or too many hashes). */
export function rootFromMultiInclusion(indices: readonly number[], size: number, leaves: readonly Buffer[], proof: readonly Buffer[]): Buffer | null {
  checkIndices(indices, size);
  if (leaves.length !== indices.length) throw new RangeError('one leaf hash per index');
  let p = 0;
  function walk(a: number, b: number, lo: number, hi: number): Buffer | null {
    if (lo === hi) return p < proof.length ? proof[p++]! : null;
    if (b - a === 1) return leaves[lo]!;
    const mid = a + splitPoint(b - a);
    const m = firstAtLeast(indices, lo, hi, mid);
    const l = walk(a, mid, lo, m);
    const r = l && walk(mid, b, m, hi);
    return r ? nodeHash(l!, r) : null;
  }
  const root = walk(0, size, 0, indices.length);
  return root && p === proof.length ? root : null;
}

function checkIndices(indices: readonly number[], size: number): void {
  if (!indices.length) throw new RangeError('a multi-leaf proof needs at least one leaf');
  for (let i = 0; i < indices.length; i++) {
    const x = indices[i]!;
    if (!Number.isSafeInteger(x) || x < 0 || x >= size || (i > 0 && x <= indices[i - 1]!)) throw new RangeError(`leaf indices must be sorted, distinct and inside a tree of ${size}`);
  }
}

/** The first position in indices[lo, hi) holding a value >= x (binary search). */
function firstAtLeast(indices: readonly number[], lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (indices[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}
