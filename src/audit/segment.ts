// Segment files: the append-only journal records enter first (synchronously, before the bytes they
// describe are forwarded) and leave once LevelDB holds them under a durable checkpoint.
//
// File: 8-byte magic, then frames back to back. Frame:
//   [0..4)    payload length L, u32 big-endian
//   [4..8)    CRC32C of bytes [8 .. 16+L) (seq and payload), u32 big-endian
//   [8..16)   seq, u64 big-endian
//   payload:  record length R (u32 BE), the canonical record (R bytes), the body (L-4-R bytes)
// CRC32C is the checksum LevelDB, ext4 and iSCSI use; it comes from SheetJS crc-32 (pure JS, no
// dependencies, the most used CRC package on npm) rather than a hand-rolled table.
//
// Reading back: a frame cut short at the end of the newest segment (a torn write: power loss, a
// partial write on a full disk) is cut off with a warning; any other bad frame (CRC mismatch with
// data after it, a seq out of order, a bad magic) is refused with the file and offset, never skipped.
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readdirSync, writeSync, fsyncSync, mkdirSync, unlinkSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { join } from 'node:path';
import crc32c from 'crc-32/crc32c.js';
import { leafHashOfPrefixed } from './merkle.js';
import { parseSegmentName, segmentDir, segmentName } from './layout.js';

export const SEGMENT_MAGIC = Buffer.from('WTSEG01\n', 'latin1');
export const FRAME_HEADER = 16;
const RECORD_LEN = 4;
/** A frame larger than this is refused as corrupt (bodies are bounded far below it). */
const MAX_FRAME = 1 << 30;

export class SegmentCorruptError extends Error {
  override readonly name = 'SegmentCorruptError';
  constructor(
    readonly file: string,
    readonly offset: number,
    why: string,
  ) {
    super(`audit segment ${file} is corrupt at byte offset ${offset}: ${why}; refusing to start (move the file aside only after inspecting it: its records are not in the store yet)`);
  }
}

/** The CRC over seq and payload, as stored in a frame header. */
export function frameCrc(frame: Buffer): number {
  return crc32c.buf(frame.subarray(8)) >>> 0;
}

/** Size of the buffers write groups are laid out in (several groups share one). */
const SLAB_BYTES = 256 * 1024;

/**
 * Where a writer's groups are laid out: consecutive groups share one slab, so a group of one record
 * (appendSync) costs no allocation of its own (a fresh ArrayBuffer per record cost more than
 * encoding it). The ingester keeps views of finished groups; a slab is freed once none is left.
 */
export class Slab {
  buf = Buffer.allocUnsafe(SLAB_BYTES);
  used = 0;
}

/**
 * Frames of one write group laid out in one buffer (one write system call). Each record's text is
 * written straight into place and its leaf hash taken in place, as value.ts's BlockBuilder does.
 * One builder at a time per slab; positions returned are relative to the finished group.
 */
export class FrameBuilder {
  private buf: Buffer;
  private base: number;
  private off: number;

  constructor(
    private readonly slab: Slab = new Slab(),
    estimate = 4096,
  ) {
    if (slab.used + estimate > slab.buf.length) {
      slab.buf = Buffer.allocUnsafe(Math.max(SLAB_BYTES, estimate));
      slab.used = 0;
    }
    this.buf = slab.buf;
    this.base = this.off = slab.used;
  }

  get length(): number {
    return this.off - this.base;
  }

  /** Appends one frame; returns where its record and body sit in the group and the record's leaf hash. */
  add(seq: number, text: string, body: Uint8Array | undefined): { hash: string; start: number; recordEnd: number; end: number } {
    const blen = body?.byteLength ?? 0;
    const need = this.off + FRAME_HEADER + RECORD_LEN + text.length * 3 + blen;
    if (need > this.buf.length) this.grow(need);
    const frame = this.off;
    const at = frame + FRAME_HEADER + RECORD_LEN;
    const rlen = this.buf.write(text, at, 'utf8');
    this.buf[at - 1] = 0; // the leaf hash is SHA-256(0x00 ‖ record): hash in place, then write the length
    const hash = leafHashOfPrefixed(this.buf.subarray(at - 1, at + rlen));
    this.buf.writeUInt32BE(rlen, at - RECORD_LEN);
    if (body) this.buf.set(body, at + rlen);
    const end = at + rlen + blen;
    this.buf.writeUInt32BE(end - frame - FRAME_HEADER, frame);
    this.buf.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), frame + 8);
    this.buf.writeUInt32BE(seq >>> 0, frame + 12);
    this.buf.writeUInt32BE(crc32c.buf(this.buf.subarray(frame + 8, end)) >>> 0, frame + 4);
    this.off = end;
    return { hash, start: at - this.base, recordEnd: at + rlen - this.base, end: end - this.base };
  }

  /** Moves the group to a new slab big enough for `need` (an offset in the current buffer). */
  private grow(need: number): void {
    const len = this.off - this.base;
    const grown = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (need - this.base)));
    this.buf.copy(grown, 0, this.base, this.off);
    this.buf = this.slab.buf = grown;
    this.base = 0;
    this.off = len;
  }

  /** Drops the last frames back to `length` (a record that failed to encode). */
  rewind(length: number): void {
    this.off = this.base + length;
  }

  /** The group's bytes; the builder must not be used afterwards (the bytes are handed over, the slab moves on). */
  finish(): Buffer {
    if (this.slab.buf === this.buf) this.slab.used = (this.off + 7) & ~7;
    return this.buf.subarray(this.base, this.off);
  }
}

/** The segment being appended to. Synchronous on purpose: a returned append is in the OS. */
export class ActiveSegment {
  /** Bytes known good (written whole); a failed write is cut back to this. */
  size: number;
  /** Seq of the last record written, -1 when none. */
  lastSeq: number;

  private constructor(
    readonly path: string,
    readonly firstSeq: number,
    private fd: number,
    size: number,
  ) {
    this.size = size;
    this.lastSeq = firstSeq - 1;
  }

  /** A new segment whose first record will be `firstSeq`; `sync` also makes its directory entry durable. */
  static create(dataDir: string, firstSeq: number, sync: boolean): ActiveSegment {
    const dir = segmentDir(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, segmentName(firstSeq));
    // A leftover file with this name holds no records the store lacks (replay already ran): start it anew.
    const fd = openSync(path, 'w', 0o600);
    try {
      writeAll(fd, SEGMENT_MAGIC);
      if (sync) {
        fdatasyncSync(fd);
        syncDir(dir);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new ActiveSegment(path, firstSeq, fd, SEGMENT_MAGIC.length);
  }

  /** Writes a group of frames with one write call (more only if the OS takes part of it). */
  write(group: Buffer, lastSeq: number, sync: boolean): void {
    writeAll(this.fd, group);
    if (sync) fdatasyncSync(this.fd);
    this.size += group.length;
    this.lastSeq = lastSeq;
  }

  /** After a failed write: reopen and cut the file back to the last whole frame. */
  repair(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed or broken: reopened below
    }
    this.fd = openSync(this.path, 'r+');
    ftruncateSync(this.fd, this.size);
    fdatasyncSync(this.fd);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closing a broken descriptor: nothing left to release
    }
  }

  /** The descriptor, for tests that inject an I/O error by closing it. */
  get descriptor(): number {
    return this.fd;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface SegmentInfo {
  path: string;
  name: string;
  firstSeq: number;
}

/** Segment files in seq order. */
export function listSegments(dataDir: string): SegmentInfo[] {
  const dir = segmentDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SegmentInfo[] = [];
  for (const name of names) {
    const firstSeq = parseSegmentName(name);
    if (firstSeq !== null) out.push({ path: join(dir, name), name, firstSeq });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function removeSegment(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface Frame {
  seq: number;
  record: Buffer;
  body: Buffer | null;
}

export interface ScanOptions {
  /** The newest segment: a torn frame at its end is cut (with onTorn) instead of refused. */
  last: boolean;
  /** Do not truncate a torn tail, only stop before it (readers of a stopped proxy's folder). */
  readOnly?: boolean;
  onTorn?: (info: { file: string; offset: number; cut: number }) => void;
}

const READ_CHUNK = 1 << 20;

/**
 * Frames of one segment file in order, checking CRCs and seq continuity; bounded memory (1 MiB
 * reads, plus one frame). A torn tail of the newest segment is truncated away.
 */
export async function* scanSegment(seg: SegmentInfo, opts: ScanOptions): AsyncGenerator<Frame> {
  const fh = await openAsync(seg.path, opts.last && !opts.readOnly ? 'r+' : 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const cut = async (offset: number) => {
      if (opts.readOnly) return;
      opts.onTorn?.({ file: seg.path, offset, cut: fileSize - offset });
      await fh.truncate(offset);
      await fh.datasync();
    };
    const head = Buffer.alloc(SEGMENT_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < head.length || !head.equals(SEGMENT_MAGIC)) {
      if (opts.last && bytesRead < head.length && SEGMENT_MAGIC.subarray(0, bytesRead).equals(head.subarray(0, bytesRead))) {
        await cut(0);
        return;
      }
      throw new SegmentCorruptError(seg.path, 0, 'not a wiretrail segment (bad magic)');
    }
    let buf = Buffer.alloc(0);
    let bufAt = SEGMENT_MAGIC.length; // file offset of buf[0]
    let pos = SEGMENT_MAGIC.length; // next file offset to read
    let expect = seg.firstSeq;
    const fill = async (need: number): Promise<boolean> => {
      while (buf.length < need && pos < fileSize) {
        const want = Math.max(READ_CHUNK, need - buf.length);
        const chunk = Buffer.allocUnsafe(Math.min(want, fileSize - pos));
        const r = await fh.read(chunk, 0, chunk.length, pos);
        if (r.bytesRead <= 0) break;
        pos += r.bytesRead;
        buf = buf.length ? Buffer.concat([buf, chunk.subarray(0, r.bytesRead)]) : chunk.subarray(0, r.bytesRead);
      }
      return buf.length >= need;
    };
    for (;;) {
      if (!(await fill(1))) return;
      const offset = bufAt;
      const tornOrCorrupt = async (why: string): Promise<'torn'> => {
        if (opts.last && (await restIsTail(offset))) {
          await cut(offset);
          return 'torn';
        }
        throw new SegmentCorruptError(seg.path, offset, why);
      };
      // A frame that runs past the end of the file, or a bad frame with nothing valid after it.
      const restIsTail = async (from: number): Promise<boolean> => {
        if (!(await fill(FRAME_HEADER))) return true;
        const len = buf.readUInt32BE(0);
        if (from + FRAME_HEADER + len >= fileSize) return true;
        await fill(fileSize - from <= 64 << 20 ? fileSize - from : 0);
        return buf.subarray(0, Math.min(buf.length, fileSize - from)).every((b) => b === 0);
      };
      if (!(await fill(FRAME_HEADER))) {
        await tornOrCorrupt('a frame header is cut short');
        return;
      }
      const len = buf.readUInt32BE(0);
      if (len < RECORD_LEN || len > MAX_FRAME) {
        await tornOrCorrupt(`impossible frame length ${len}`);
        return;
      }
      if (!(await fill(FRAME_HEADER + len))) {
        await tornOrCorrupt('a frame is cut short');
        return;
      }
      const frame = buf.subarray(0, FRAME_HEADER + len);
      if (frameCrc(frame) !== frame.readUInt32BE(4)) {
        await tornOrCorrupt('CRC32C mismatch');
        return;
      }
      const seq = frame.readUInt32BE(8) * 0x1_0000_0000 + frame.readUInt32BE(12);
      if (seq !== expect) throw new SegmentCorruptError(seg.path, offset, `record seq ${seq} where ${expect} was expected`);
      const rlen = frame.readUInt32BE(FRAME_HEADER);
      if (rlen === 0 || RECORD_LEN + rlen > len) throw new SegmentCorruptError(seg.path, offset, `impossible record length ${rlen}`);
      const recStart = FRAME_HEADER + RECORD_LEN;
      const record = frame.subarray(recStart, recStart + rlen);
      const body = recStart + rlen < frame.length ? frame.subarray(recStart + rlen) : null;
      yield { seq, record, body };
      expect++;
      buf = buf.subarray(frame.length);
      bufAt += frame.length;
    }
  } finally {
    await fh.close();
  }
}

/** Size of a segment file (for the lag figures and tests). */
export function segmentBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
