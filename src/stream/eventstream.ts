// AWS event-stream framing (`application/vnd.amazon.eventstream`: Bedrock ConverseStream and
// InvokeModelWithResponseStream, Transcribe, S3 Select…): a bounded incremental parser and the
// matching encoder.
//
// Message: [0..4) total length, [4..8) headers length, [8..12) CRC32 of bytes [0..8) (prelude CRC),
// headers, payload, then CRC32 of every byte before it (message CRC). All integers big-endian; CRC32
// is the IEEE polynomial (zlib's), not CRC32C. A header is: name length (1 byte), name (UTF-8),
// type tag (1 byte), value: 0 true / 1 false (no bytes), 2 byte, 3 short, 4 int, 5 long, 6 bytes
// (u16 length + bytes), 7 string (u16 length + UTF-8), 8 timestamp (i64 ms), 9 uuid (16 bytes).
//
// Written here on SheetJS crc-32 (already a dependency) rather than taken from the AWS SDK's codec:
// that codec parses one whole message the caller has already cut out (the SDK's splitter allocates
// whatever length a prelude announces), reads a header name or value past the end of the headers
// section into the payload without noticing, and keeps the last of two headers with the same name.
// Here a prelude is checked before anything is buffered (its CRC, then the total length against the
// cap), every header must end inside its section, a name appears once, and a frame that is not
// exactly what its CRCs say ends the stream: a proxy must not guess what a client will read.
import CRC32 from 'crc-32';

/** Default cap on one message (prelude to message CRC). AWS services send far smaller frames (≤ 16 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const PRELUDE = 12;
const MIN_MESSAGE = 16;
const MAX_HEADER_VALUE = 0xffff;

export type HeaderValue =
  | { type: 'bool'; value: boolean }
  | { type: 'byte'; value: number }
  | { type: 'short'; value: number }
  | { type: 'int'; value: number }
  | { type: 'long'; value: bigint }
  | { type: 'bytes'; value: Buffer }
  | { type: 'string'; value: string }
  /** Milliseconds since the epoch, exactly as sent. */
  | { type: 'timestamp'; value: bigint }
  /** 16 bytes. */
  | { type: 'uuid'; value: Buffer };

export interface EventHeader {
  name: string;
  value: HeaderValue;
}

export interface EventMessage {
  /** In wire order; names are unique. */
  headers: EventHeader[];
  payload: Buffer;
}

/** The stream cannot be read on: a frame is oversize, fails a CRC or is malformed. */
export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
  constructor(
    readonly code: 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE' | 'WT_ERR_EVENTSTREAM_CRC' | 'WT_ERR_EVENTSTREAM_FRAME',
    message: string,
  ) {
    super(message);
  }
}

const crc32 = (b: Uint8Array, seed?: number): number => CRC32.buf(b, seed) >>> 0;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The value of a string header, or undefined. */
export function stringHeader(m: EventMessage, name: string): string | undefined {
  const h = m.headers.find((x) => x.name === name);
  return h && h.value.type === 'string' ? h.value.value : undefined;
}

/**
 * Incremental parser: bytes may be split anywhere. It holds at most one message (≤ the cap) plus the
 * next prelude. Once a frame is bad, `error` is set, the messages completed before it are returned,
 * and every later push returns nothing; end() gives back the bad prelude or frame (or, at a normal
 * end, the bytes of an unfinished message).
 */
export class EventStreamParser {
  private parts: Buffer[] = [];
  private held = 0;
  /** Total length of the message being gathered, once its prelude checked out. */
  private need = 0;
  private failed: EventStreamError | null = null;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  get error(): EventStreamError | null {
    return this.failed;
  }

  push(chunk: Buffer): EventMessage[] {
    if (this.failed || chunk.length === 0) return [];
    this.parts.push(chunk);
    this.held += chunk.length;
    const out: EventMessage[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.held < PRELUDE) break;
        const err = this.checkPrelude(this.peek(PRELUDE));
        if (err) {
          this.fail(err, this.take(PRELUDE));
          break;
        }
      }
      if (this.held < this.need) break;
      const frame = this.take(this.need);
      this.need = 0;
      const m = decodeFrame(frame);
      if (m instanceof EventStreamError) {
        this.fail(m, frame);
        break;
      }
      out.push(m);
    }
    return out;
  }

  /**
   * Keeps only the bytes judged bad (a prelude, or a whole frame) for end(): what follows them is not
   * read, like the upstream bytes the caller stops reading, so pieces of several unread frames are
   * never glued together into one text.
   */
  private fail(err: EventStreamError, bad: Buffer): void {
    this.failed = err;
    this.parts = [bad];
    this.held = bad.length;
  }

  /** End of the body: the bytes of an unfinished (or refused) message, if any. */
  end(): { tail: Buffer } {
    const tail = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.held = 0;
    this.need = 0;
    return { tail };
  }

  private checkPrelude(p: Buffer): EventStreamError | null {
    const total = p.readUInt32BE(0);
    const headers = p.readUInt32BE(4);
    if (crc32(p.subarray(0, 8)) !== p.readUInt32BE(8)) return new EventStreamError('WT_ERR_EVENTSTREAM_CRC', 'an upstream event-stream prelude failed its CRC32');
    if (total > this.maxMessageBytes) return new EventStreamError('WT_ERR_UPSTREAM_EVENT_TOO_LARGE', `an upstream event-stream message of ${total} bytes exceeds ${this.maxMessageBytes}`);
    if (total < MIN_MESSAGE || headers > total - MIN_MESSAGE) return new EventStreamError('WT_ERR_EVENTSTREAM_FRAME', `an upstream event-stream prelude is malformed (total ${total}, headers ${headers})`);
    this.need = total;
    return null;
  }

  /** The first n held bytes (n ≤ held), without consuming them. */
  private peek(n: number): Buffer {
    if (this.parts[0]!.length >= n) return this.parts[0]!.subarray(0, n);
    const joined = Buffer.concat(this.parts);
    this.parts = [joined];
    return joined.subarray(0, n);
  }

  /** Removes and returns the first n held bytes (n ≤ held). */
  private take(n: number): Buffer {
    const first = this.parts[0]!;
    if (first.length >= n) {
      const frame = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      this.held -= n;
      return frame;
    }
    const joined = Buffer.concat(this.parts);
    const frame = joined.subarray(0, n);
    this.parts = joined.length > n ? [joined.subarray(n)] : [];
    this.held -= n;
    return frame;
  }
}

/** Decodes one whole frame (its prelude already checked), or says why it is refused. */
export function decodeFrame(frame: Buffer): EventMessage | EventStreamError {
  const total = frame.length;
  if (total < MIN_MESSAGE || frame.readUInt32BE(0) !== total) return new EventStreamError('WT_ERR_EVENTSTREAM_FRAME', 'an upstream event-stream message length does not match its prelude');
  if (crc32(frame.subarray(0, 8)) !== frame.readUInt32BE(8)) return new EventStreamError('WT_ERR_EVENTSTREAM_CRC', 'an upstream event-stream prelude failed its CRC32');
  if (crc32(frame.subarray(0, total - 4)) !== frame.readUInt32BE(total - 4)) return new EventStreamError('WT_ERR_EVENTSTREAM_CRC', 'an upstream event-stream message failed its CRC32');
  const headersLen = frame.readUInt32BE(4);
  if (headersLen > total - MIN_MESSAGE) return new EventStreamError('WT_ERR_EVENTSTREAM_FRAME', 'an upstream event-stream headers length exceeds its message');
  try {
    const headers = decodeHeaders(frame.subarray(PRELUDE, PRELUDE + headersLen));
    return { headers, payload: frame.subarray(PRELUDE + headersLen, total - 4) };
  } catch (err) {
    return new EventStreamError('WT_ERR_EVENTSTREAM_FRAME', `an upstream event-stream header is malformed: ${(err as Error).message}`);
  }
}

function decodeHeaders(b: Buffer): EventHeader[] {
  const out: EventHeader[] = [];
  const seen = new Set<string>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > b.length) throw new Error('runs past the headers section');
  };
  while (pos < b.length) {
    const nameLen = b[pos++]!;
    if (nameLen === 0) throw new Error('empty header name');
    need(nameLen + 1);
    const name = fatalUtf8.decode(b.subarray(pos, pos + nameLen));
    pos += nameLen;
    if (seen.has(name)) throw new Error(`header ${JSON.stringify(name.slice(0, 64))} appears twice`);
    seen.add(name);
    const tag = b[pos++]!;
    let value: HeaderValue;
    switch (tag) {
      case 0:
      case 1:
        value = { type: 'bool', value: tag === 0 };
        break;
      case 2:
        need(1);
        value = { type: 'byte', value: b.readInt8(pos) };
        pos += 1;
        break;
      case 3:
        need(2);
        value = { type: 'short', value: b.readInt16BE(pos) };
        pos += 2;
        break;
      case 4:
        need(4);
        value = { type: 'int', value: b.readInt32BE(pos) };
        pos += 4;
        break;
      case 5:
      case 8:
        need(8);
        value = { type: tag === 5 ? 'long' : 'timestamp', value: b.readBigInt64BE(pos) };
        pos += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const len = b.readUInt16BE(pos);
        pos += 2;
        need(len);
        const bytes = b.subarray(pos, pos + len);
        pos += len;
        value = tag === 6 ? { type: 'bytes', value: Buffer.from(bytes) } : { type: 'string', value: fatalUtf8.decode(bytes) };
        break;
      }
      case 9:
        need(16);
        value = { type: 'uuid', value: Buffer.from(b.subarray(pos, pos + 16)) };
        pos += 16;
        break;
      default:
        throw new Error(`unknown header value type ${tag}`);
    }
    out.push({ name, value });
  }
  return out;
}

/** Encodes a message with both CRCs. Throws on a header that cannot be represented. */
export function encodeMessage(m: EventMessage): Buffer {
  const headers = encodeHeaders(m.headers);
  const total = PRELUDE + headers.length + m.payload.length + 4;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, PRELUDE);
  m.payload.copy(out, PRELUDE + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function encodeHeaders(headers: readonly EventHeader[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, value } of headers) {
    const n = Buffer.from(name, 'utf8');
    if (n.length === 0 || n.length > 255) throw new RangeError(`event-stream header name of ${n.length} bytes`);
    parts.push(Buffer.from([n.length]), n, encodeValue(value));
  }
  return Buffer.concat(parts);
}

function encodeValue(v: HeaderValue): Buffer {
  const fixed = (tag: number, size: number, write: (b: Buffer) => void) => {
    const b = Buffer.alloc(1 + size);
    b[0] = tag;
    write(b);
    return b;
  };
  switch (v.type) {
    case 'bool':
      return Buffer.from([v.value ? 0 : 1]);
    case 'byte':
      return fixed(2, 1, (b) => b.writeInt8(v.value, 1));
    case 'short':
      return fixed(3, 2, (b) => b.writeInt16BE(v.value, 1));
    case 'int':
      return fixed(4, 4, (b) => b.writeInt32BE(v.value, 1));
    case 'long':
      return fixed(5, 8, (b) => b.writeBigInt64BE(v.value, 1));
    case 'timestamp':
      return fixed(8, 8, (b) => b.writeBigInt64BE(v.value, 1));
    case 'uuid':
      if (v.value.length !== 16) throw new RangeError('event-stream uuid header must be 16 bytes');
      return Buffer.concat([Buffer.from([9]), v.value]);
    case 'bytes':
    case 'string': {
      const bytes = v.type === 'bytes' ? v.value : Buffer.from(v.value, 'utf8');
      if (bytes.length > MAX_HEADER_VALUE) throw new RangeError(`event-stream header value of ${bytes.length} bytes`);
      const b = Buffer.alloc(3 + bytes.length);
      b[0] = v.type === 'bytes' ? 6 : 7;
      b.writeUInt16BE(bytes.length, 1);
      bytes.copy(b, 3);
      return b;
    }
  }
}
