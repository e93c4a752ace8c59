// RFC 9162 Merkle tree hashing, proof construction and proof verification.
// Sizes and indices may exceed 2^32, so no 32-bit bit operators here.
import { createHash, hash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

// crypto.hash (one-shot) is about twice as fast as createHash for small inputs; verify hashes every record.
export function leafHash(data: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF, data]), 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([NODE, left, right], 65), 'buffer');
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
