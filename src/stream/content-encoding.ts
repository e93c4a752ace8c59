// Content-Encoding handling: streaming decoders for response bodies and whole-buffer
// decode/encode for request bodies. gzip, deflate (zlib-wrapped or raw, as servers differ),
// br, and zstd when the running Node has it.
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';

type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

const zstdDecompress = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o?: { maxOutputLength?: number }) => Buffer }).zstdDecompressSync;

/**
 * Decompression bombs: a few KB of gzip or brotli expand to GBs. Whole bodies decode into at most
 * the request-body limit; a streamed response chunk into at most this much (its text is masked and
 * recorded before the next chunk is read, so this is also the largest buffer one chunk can cost).
 */
export const MAX_DECODED_PER_CHUNK = 16 * 1024 * 1024;
const DEFAULT_MAX_DECODED_BODY = 32 * 1024 * 1024;

/** Thrown when decoding would exceed its bound (code ERR_DECODED_TOO_LARGE). */
export class DecodedTooLargeError extends RangeError {
  readonly code = 'ERR_DECODED_TOO_LARGE';
  constructor(limit: number) {
    super(`decoded body exceeds ${limit} bytes (decompression bomb?)`);
  }
}
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;

/** The codings this Node can decode (zstd only where zlib has it). */
export function supportedCodings(): Coding[] {
  return zstdDecompress ? ['gzip', 'deflate', 'br', 'zstd'] : ['gzip', 'deflate', 'br'];
}

/** Codings listed in a Content-Encoding header, in the order they were applied. null: one we cannot decode. */
export function parseContentEncoding(header: string | string[] | undefined): Coding[] | null {
  if (header === undefined) return [];
  const raw = (Array.isArray(header) ? header.join(',') : header).split(',');
  const out: Coding[] = [];
  for (const part of raw) {
    const c = part.trim().toLowerCase();
    if (c === '' || c === 'identity') continue;
    if (c === 'gzip' || c === 'x-gzip') out.push('gzip');
    else if (c === 'deflate') out.push('deflate');
    else if (c === 'br') out.push('br');
    else if (c === 'zstd' && zstdDecompress) out.push('zstd');
    else return null;
  }
  return out;
}

// A zlib-wrapped deflate stream starts with CMF/FLG where CM = 8 and the pair is a multiple of 31.
function looksZlibWrapped(b: Buffer): boolean {
  if (b.length < 2) return true;
  const cmf = b[0]!;
  const flg = b[1]!;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

/** One streaming decompression step; output for a write is collected once zlib has consumed it. */
class Step {
  private stream: Transform | null = null;
  private out: Buffer[] = [];
  private outBytes = 0;
  private failure: Error | null = null;
  private pendingReject: ((e: Error) => void) | null = null;
  private head: Buffer | null = null; // deflate: first bytes kept until the wrapper can be told

  constructor(private readonly coding: Coding) {}

  private open(first: Buffer): Transform {
    let s: Transform;
    switch (this.coding) {
      case 'gzip':
        s = zlib.createGunzip();
        break;
      case 'deflate':
        s = looksZlibWrapped(first) ? zlib.createInflate() : zlib.createInflateRaw();
        break;
      case 'br':
        s = zlib.createBrotliDecompress();
        break;
      case 'zstd':
        s = zstdDecompress!();
        break;
    }
    s.on('data', (d: Buffer) => {
      this.outBytes += d.length;
      if (this.outBytes > MAX_DECODED_PER_CHUNK) s.destroy(new DecodedTooLargeError(MAX_DECODED_PER_CHUNK));
      else this.out.push(d);
    });
    s.on('error', (e: Error) => {
      this.failure = e;
      const r = this.pendingReject;
      this.pendingReject = null;
      r?.(e);
    });
    this.stream = s;
    return s;
  }

  private drain(): Buffer {
    const b = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    return b;
  }

  async write(chunk: Buffer): Promise<Buffer> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return Buffer.alloc(0);
    if (!this.stream) {
      if (this.coding === 'deflate' && (this.head?.length ?? 0) + chunk.length < 2) {
        this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
        return Buffer.alloc(0);
      }
      if (this.head) {
        chunk = Buffer.concat([this.head, chunk]);
        this.head = null;
      }
      this.open(chunk);
    }
    const s = this.stream!;
    await new Promise<void>((resolve, reject) => {
      this.pendingReject = reject;
      s.write(chunk, (err) => {
        this.pendingReject = null;
        if (err) reject(err);
        else resolve();
      });
    });
    return this.drain();
  }

  async end(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    if (!this.stream) {
      if (!this.head) return Buffer.alloc(0);
      this.open(this.head);
      this.stream!.write(this.head);
      this.head = null;
    }
    const s = this.stream!;
    await new Promise<void>((resolve, reject) => {
      this.pendingReject = reject;
      s.once('end', () => {
        this.pendingReject = null;
        resolve();
      });
      s.end();
    });
    return this.drain();
  }

  destroy(): void {
    this.stream?.destroy();
  }
}

/** Streaming decoder for a response body encoded with `codings` (applied in that order). */
export class BodyDecoder {
  private readonly steps: Step[];

  constructor(codings: Coding[]) {
    this.steps = [...codings].reverse().map((c) => new Step(c));
  }

  get identity(): boolean {
    return this.steps.length === 0;
  }

  async write(chunk: Buffer): Promise<Buffer> {
    let b = chunk;
    for (const s of this.steps) b = await s.write(b);
    return b;
  }

  async end(): Promise<Buffer> {
    let b: Buffer = Buffer.alloc(0);
    for (const s of this.steps) {
      const mid = b.length ? await s.write(b) : Buffer.alloc(0);
      const tail = await s.end();
      b = mid.length ? Buffer.concat([mid, tail]) : tail;
    }
    return b;
  }

  destroy(): void {
    for (const s of this.steps) s.destroy();
  }
}

/** Whole-buffer decode (request bodies). Throws on corrupt input. */
export function decodeBody(body: Buffer, codings: Coding[], maxBytes = DEFAULT_MAX_DECODED_BODY): Buffer {
  let b = body;
  const o = { maxOutputLength: maxBytes };
  try {
    for (const c of [...codings].reverse()) {
      switch (c) {
        case 'gzip':
          b = zlib.gunzipSync(b, o);
          break;
        case 'deflate':
          b = looksZlibWrapped(b) ? zlib.inflateSync(b, o) : zlib.inflateRawSync(b, o);
          break;
        case 'br':
          b = zlib.brotliDecompressSync(b, o);
          break;
        case 'zstd':
          b = zstdDecompressSync!(b, o);
          break;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecodedTooLargeError(maxBytes);
    throw err;
  }
  if (b.length > maxBytes) throw new DecodedTooLargeError(maxBytes);
  return b;
}

/** Whole-buffer encode with the same codings, so a changed request body keeps its Content-Encoding. */
export function encodeBody(body: Buffer, codings: Coding[]): Buffer {
  let b = body;
  for (const c of codings) {
    switch (c) {
      case 'gzip':
        b = zlib.gzipSync(b);
        break;
      case 'deflate':
        b = zlib.deflateSync(b);
        break;
      case 'br':
        b = zlib.brotliCompressSync(b);
        break;
      case 'zstd':
        if (!zstdCompressSync) throw new Error('zstd encoder unavailable');
        b = zstdCompressSync(b);
        break;
    }
  }
  return b;
}

export type { Coding };
