// Append-only Merkle tree kept as "tiles" (after C2SP tlog-tiles): tile level k holds the hashes of
// tree level 8k in rows of 256. Level 0 rows are the leaf hashes; a full row of 256 hashes at
// level k yields one hash at level k+1. Storing only these rows (~32 bytes per record) is enough to
// compute any subtree hash with at most 255 hash operations per tile touched, so inclusion and
// consistency proofs for any past tree size are cheap, and the writer keeps just the partial rows.
import { nodeHash, nodeHashInto, splitPoint, isPow2, EMPTY_ROOT, type RangeHash } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
const HASH = 32;
const ROW_BYTES = TILE_WIDTH * HASH;

// Each tile level keeps its partial row together with the perfect subtrees inside it, in one buffer
// laid out like a heap: height 0 (the row's hashes, which is also the stored tile) at slots 0..255,
// height j at slots BASE[j].., the row's root at slot 510. The two children of a node are adjacent,
// so a node hash reads one 64-byte run. Appending costs one node hash on average (a binary
// counter), the hashes of a full row are done when it fills, and root() only combines at most
// 8 stored nodes per level: no allocation per record.
const BASE = [0, 256, 384, 448, 480, 496, 504, 508, 510];
const LEVEL_BYTES = (2 * TILE_WIDTH - 1) * HASH;
const slot = (height: number, index: number) => (BASE[height]! + index) * HASH;

export function packTile(hashes: Buffer[]): Buffer {
  return Buffer.concat(hashes, hashes.length * HASH);
}

export function unpackTile(buf: Uint8Array): Buffer[] | null {
  if (!validTile(buf)) return null;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += HASH) out.push(b.subarray(i, i + HASH));
  return out;
}

/** A stored tile value is 1..256 packed hashes. */
export function validTile(buf: Uint8Array): boolean {
  return buf.byteLength % HASH === 0 && buf.byteLength !== 0 && buf.byteLength <= ROW_BYTES;
}

/** Number of hashes tile level k has in a tree of `size` leaves. */
export function rowCount(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

export interface TileWrite {
  level: number;
  index: number;
  /** The tile's hashes, packed (32 bytes each). */
  data: Buffer;
}

/** The right edge of the tree: one partial row per tile level. Used by the writer and by verify. */
export class TreeFrontier {
  size = 0;
  private readonly levels: Buffer[] = [];
  private readonly counts: number[] = [];
  private dirty = 0; // bit k: row k changed since takeWrites()
  private completed: TileWrite[] = [];

  /** Restores the frontier from stored partial rows (packed hashes, one per level, from rowCount). */
  static restore(size: number, rows: Buffer[]): TreeFrontier {
    const f = new TreeFrontier();
    f.size = size;
    rows.forEach((r, k) => {
      const n = Math.floor(Math.min(r.length, ROW_BYTES) / HASH);
      r.copy(f.level(k), 0, 0, n * HASH);
      for (let i = 1; i <= n; i++) f.combine(k, i);
      f.counts[k] = n;
    });
    return f;
  }

  private level(k: number): Buffer {
    let b = this.levels[k];
    if (!b) {
      b = this.levels[k] = Buffer.alloc(LEVEL_BYTES);
      this.counts[k] = 0;
    }
    return b;
  }

  /** After the n-th hash of row k is in place: hash the subtrees it completes. */
  private combine(k: number, n: number): void {
    const b = this.levels[k]!;
    let i = n - 1;
    for (let j = 1; i & 1; j++) {
      nodeHashInto(b, slot(j - 1, i - 1), b, slot(j, i >> 1));
      i >>= 1;
    }
  }

  /** Appends a leaf hash (32 bytes); full tiles are reported to `onFull` (verify) and queued for takeWrites(). */
  append(leaf: Uint8Array, onFull?: (t: TileWrite) => void): void {
    this.level(0).set(leaf.subarray(0, HASH), this.counts[0]! * HASH);
    this.advance(onFull);
  }

  /** Appends a leaf hash given as 64 hex digits. */
  appendHex(leaf: string, onFull?: (t: TileWrite) => void): void {
    this.level(0).write(leaf, this.counts[0]! * HASH, HASH, 'hex');
    this.advance(onFull);
  }

  private advance(onFull?: (t: TileWrite) => void): void {
    for (let k = 0; ; k++) {
      const n = this.counts[k]! + 1;
      this.counts[k] = n;
      this.dirty |= 1 << k;
      this.combine(k, n);
      if (n < TILE_WIDTH) break;
      const b = this.levels[k]!;
      const t = { level: k, index: Math.floor((rowCount(this.size + 1, k) - 1) / TILE_WIDTH), data: Buffer.from(b.subarray(0, ROW_BYTES)) };
      if (onFull) onFull(t);
      else this.completed.push(t);
      const up = this.level(k + 1);
      b.copy(up, this.counts[k + 1]! * HASH, slot(TILE_HEIGHT, 0), slot(TILE_HEIGHT, 0) + HASH);
      this.counts[k] = 0;
    }
    this.size++;
  }

  /** Tiles to store since the last call: completed full tiles plus every changed partial row. */
  takeWrites(): TileWrite[] {
    const out = this.completed;
    for (let k = 0; k < this.levels.length; k++) {
      const n = this.counts[k]!;
      if (this.dirty & (1 << k) && n) out.push({ level: k, index: Math.floor(rowCount(this.size, k) / TILE_WIDTH), data: Buffer.from(this.levels[k]!.subarray(0, n * HASH)) });
    }
    this.completed = [];
    this.dirty = 0;
    return out;
  }

  /** The current partial rows by level (verify compares them with the stored tiles); views, valid until the next append. */
  partialTiles(): TileWrite[] {
    const out: TileWrite[] = [];
    for (let k = 0; k < this.levels.length; k++) {
      const n = this.counts[k]!;
      if (n) out.push({ level: k, index: Math.floor(rowCount(this.size, k) / TILE_WIDTH), data: this.levels[k]!.subarray(0, n * HASH) });
    }
    return out;
  }

  /** RFC 9162 root hash of the current tree. */
  root(): Buffer {
    // Perfect subtrees from the left: highest level first, and within a row by the bits of its length.
    const parts: Buffer[] = [];
    for (let k = this.levels.length - 1; k >= 0; k--) {
      const b = this.levels[k]!;
      const n = this.counts[k]!;
      let start = 0;
      for (let j = TILE_HEIGHT - 1; j >= 0; j--) {
        if (n - start >= 1 << j) {
          const at = slot(j, start >> j);
          parts.push(b.subarray(at, at + HASH));
          start += 1 << j;
        }
      }
    }
    if (parts.length === 0) return EMPTY_ROOT;
    let acc: Buffer = Buffer.from(parts[parts.length - 1]!);
    for (let i = parts.length - 2; i >= 0; i--) acc = nodeHash(parts[i]!, acc);
    return acc;
  }
}

/** Loads tile hashes (level, index) from wherever they live; null when absent. */
export type TileSource = (level: number, index: number) => Promise<Buffer[] | null>;

/**
 * RangeHash over stored tiles for proofs: MTH(D[a:b]) for the aligned ranges RFC 9162 asks for.
 * Tiles are cached for the lifetime of the returned function (one proof batch).
 */
export function rangeHashFromTiles(source: TileSource): RangeHash {
  const cache = new Map<string, Buffer[]>();
  async function tile(level: number, index: number): Promise<Buffer[]> {
    const key = `${level}/${index}`;
    let t = cache.get(key);
    if (!t) {
      const got = await source(level, index);
      if (!got) throw new Error(`tree tile ${level}/${index} is missing`);
      t = got;
      if (cache.size > 4096) cache.clear();
      cache.set(key, t);
    }
    return t;
  }
  // Perfect subtree hashes are memoized: neighbouring proofs share most of their path. Within a
  // tile the hashing is synchronous (one await per tile, not one per node).
  const memo = new Map<string, Buffer>();
  function inTile(t: Buffer[], level: number, tileIndex: number, j: number, off: number): Buffer {
    if (j === 0) {
      const h = t[off];
      if (!h) throw new Error(`tree tile ${level}/${tileIndex} is shorter than expected`);
      return h;
    }
    const w = 2 ** j;
    const key = `${level * TILE_HEIGHT + j}/${(tileIndex * TILE_WIDTH + off) / w}`;
    let h = memo.get(key);
    if (!h) {
      h = nodeHash(inTile(t, level, tileIndex, j - 1, off), inTile(t, level, tileIndex, j - 1, off + w / 2));
      if (memo.size > 200_000) memo.clear();
      memo.set(key, h);
    }
    return h;
  }
  async function perfect(height: number, index: number): Promise<Buffer> {
    const k = Math.floor(height / TILE_HEIGHT);
    const j = height - k * TILE_HEIGHT;
    const first = index * 2 ** j;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const cached = j > 0 ? memo.get(`${height}/${index}`) : undefined;
    if (cached) return cached;
    return inTile(await tile(k, tileIndex), k, tileIndex, j, first % TILE_WIDTH);
  }

  // Ragged right-edge ranges recur in every proof against the same tree size: memoized too.
  const ragged = new Map<string, Buffer>();
  async function mth(a: number, b: number): Promise<Buffer> {
    const n = b - a;
    if (n <= 0) return EMPTY_ROOT;
    if (isPow2(n) && a % n === 0) return perfect(Math.round(Math.log2(n)), a / n);
    const key = `${a}/${b}`;
    let h = ragged.get(key);
    if (!h) {
      const k = splitPoint(n);
      h = nodeHash(await mth(a, a + k), await mth(a + k, b));
      if (ragged.size > 100_000) ragged.clear();
      ragged.set(key, h);
    }
    return h;
  }
  return mth;
}
