// Append-only Merkle tree kept as "tiles" (after C2SP tlog-tiles): tile level k holds the hashes of
// tree level 8k in rows of 256. Level 0 rows are the leaf hashes; a full row of 256 hashes at
// level k yields one hash at level k+1. Storing only these rows (~32 bytes per record) is enough to
// compute any subtree hash with at most 255 hash operations per tile touched, so inclusion and
// consistency proofs for any past tree size are cheap, and the writer keeps just the partial rows.
import { nodeHash, splitPoint, EMPTY_ROOT, isPow2, type RangeHash } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
const HASH = 32;

/** MTH over a list of subtree hashes of equal height (a perfect or RFC-9162-shaped range). */
export function mthOfHashes(list: Buffer[], from = 0, to = list.length): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return list[from]!;
  const k = splitPoint(n);
  return nodeHash(mthOfHashes(list, from, from + k), mthOfHashes(list, from + k, to));
}

export function packTile(hashes: Buffer[]): Buffer {
  return Buffer.concat(hashes, hashes.length * HASH);
}

export function unpackTile(buf: Uint8Array): Buffer[] | null {
  if (buf.byteLength % HASH !== 0 || buf.byteLength === 0 || buf.byteLength > TILE_WIDTH * HASH) return null;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += HASH) out.push(b.subarray(i, i + HASH));
  return out;
}

/** Number of hashes tile level k has in a tree of `size` leaves. */
export function rowCount(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

export interface TileWrite {
  level: number;
  index: number;
  hashes: Buffer[];
}

/** The right edge of the tree: one partial row per tile level. Used by the writer and by verify. */
export class TreeFrontier {
  size = 0;
  /** rows[k]: the hashes of the current (partial) tile at level k. */
  readonly rows: Buffer[][] = [];
  private dirtyLevels = new Set<number>();
  private completed: TileWrite[] = [];

  /** Restores the frontier from stored partial rows (one per level, from rowCount). */
  static restore(size: number, rows: Buffer[][]): TreeFrontier {
    const f = new TreeFrontier();
    f.size = size;
    rows.forEach((r, k) => (f.rows[k] = r));
    return f;
  }

  /** Appends a leaf hash; full tiles are reported to `onFull` (verify) and queued for takeWrites(). */
  append(leaf: Buffer, onFull?: (t: TileWrite) => void): void {
    let h = leaf;
    let k = 0;
    for (;;) {
      const row = (this.rows[k] ??= []);
      row.push(h);
      this.dirtyLevels.add(k);
      if (row.length < TILE_WIDTH) break;
      const index = Math.floor((rowCount(this.size + 1, k) - 1) / TILE_WIDTH);
      const t = { level: k, index, hashes: row };
      if (onFull) onFull(t);
      else this.completed.push(t);
      h = mthOfHashes(row);
      this.rows[k] = [];
      k++;
    }
    this.size++;
  }

  /** Tiles to store since the last call: completed full tiles plus every changed partial row. */
  takeWrites(): TileWrite[] {
    const out = this.completed;
    for (const k of this.dirtyLevels) {
      const row = this.rows[k];
      if (row && row.length) out.push({ level: k, index: Math.floor(rowCount(this.size, k) / TILE_WIDTH), hashes: row.slice() });
    }
    this.completed = [];
    this.dirtyLevels.clear();
    return out;
  }

  /** The current partial rows by level (verify compares them with the stored tiles). */
  partialTiles(): TileWrite[] {
    const out: TileWrite[] = [];
    this.rows.forEach((row, k) => {
      if (row.length) out.push({ level: k, index: Math.floor(rowCount(this.size, k) / TILE_WIDTH), hashes: row });
    });
    return out;
  }

  /** RFC 9162 root hash of the current tree. */
  root(): Buffer {
    // Perfect subtrees from the left: highest level first, and within a row by the bits of its length.
    const parts: Buffer[] = [];
    for (let k = this.rows.length - 1; k >= 0; k--) {
      const row = this.rows[k] ?? [];
      let start = 0;
      for (let bit = TILE_HEIGHT - 1; bit >= 0; bit--) {
        const w = 2 ** bit;
        if (row.length - start >= w) {
          parts.push(mthOfHashes(row, start, start + w));
          start += w;
        }
      }
    }
    if (parts.length === 0) return EMPTY_ROOT;
    let acc = parts[parts.length - 1]!;
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
