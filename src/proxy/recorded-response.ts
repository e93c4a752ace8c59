// The only way response body bytes reach an intercepted client. Fail closed, structurally: client bytes
// are queued and released only after a record committed at or after their arrival; at the end, bytes
// of a body that produced no record at all are withheld and the stream is reported broken. A future
// format (or a processor mode) that forgets to record therefore cannot leak: its bytes never leave.
import type { ServerResponse } from 'node:http';
import type { JsonObject } from '../audit/types.js';
import { UpstreamBrokenError } from '../errors/index.js';
import type { Output } from './deps.js';

/** Client bytes waiting for a record to cover them; beyond this the stream is treated as broken. */
export const MAX_UNCOVERED_BYTES = 33 * 1024 * 1024;

/** Records one chunk: synchronously (the record is in the OS when it returns, no wait) or as a promise. */
export type RecordChunk = (meta: JsonObject, body: Buffer) => Promise<unknown> | void;

export class RecordedResponse {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Held bytes commitEnd found covered by records. */
  private covered = 0;
  private recordBytes = 0;
  chunks = 0;
  clientBytes = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly recordChunk: RecordChunk,
    /** Writes the response head once, before the first body byte (deferred so a first-chunk failure can still be a 502). */
    private readonly writeHead: () => void,
  ) {}

  /**
   * Records `out.record` (a store failure stops here), then releases covered client bytes. Returns a
   * promise only when something must be waited for (an asynchronous record, a client pushing back):
   * a chunk recorded synchronously and written at once costs no promise.
   */
  commit(out: Output, at: number): Promise<void> | void {
    this.queue(out.client);
    if (out.record.length === 0) return;
    this.chunks++;
    const recorded = this.recordChunk({ at, i: this.chunks, bytes: out.record.length }, out.record);
    if (recorded) {
      return recorded.then(() => {
        this.recordBytes += out.record.length;
        return this.release();
      });
    }
    this.recordBytes += out.record.length;
    return this.release();
  }

  /**
   * The processor ended normally: everything it emitted is recorded, unless it recorded nothing at
   * all. The bytes it covers stay held for finish() (after the exchange's last record), so the head,
   * the last bytes and the end of the body leave in one write.
   */
  async commitEnd(out: Output, at: number): Promise<void> {
    this.queue(out.client);
    if (out.record.length > 0) {
      this.chunks++;
      await this.recordChunk({ at, i: this.chunks, bytes: out.record.length }, out.record);
      this.recordBytes += out.record.length;
      this.covered = this.pendingBytes;
    }
    if (this.pendingBytes > 0 && this.recordBytes === 0) {
      throw new UpstreamBrokenError(`response body of ${this.pendingBytes} bytes produced no record: withheld from the client (fail closed)`);
    }
    this.covered = this.pendingBytes;
  }

  /** Bytes commitEnd holds for finish(), all covered by records. */
  get heldBytes(): number {
    return this.covered;
  }

  /** Sends the head (if not sent), the held bytes and the end of the body together (corked: one write). */
  finish(): void {
    const { res } = this;
    if (res.destroyed) return;
    res.cork();
    this.writeHead();
    for (const b of this.pending) {
      this.clientBytes += b.length;
      res.write(b);
    }
    this.pending = [];
    this.pendingBytes = this.covered = 0;
    res.end(); // uncorks
  }

  /** Records what the processor still held (upstream died, client left), marked partial. Never sends. */
  async commitPartial(out: Output): Promise<void> {
    if (out.record.length === 0) return;
    this.chunks++;
    await this.recordChunk({ at: Date.now(), i: this.chunks, bytes: out.record.length, partial: true }, out.record);
  }

  /** Sends the head if no byte went yet (a stream that ends with no body); withheld bytes stay withheld. */
  closeHead(): void {
    this.writeHead();
  }

  get withheldBytes(): number {
    return this.pendingBytes;
  }

  private queue(b: Buffer): void {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes > MAX_UNCOVERED_BYTES) throw new UpstreamBrokenError(`more than ${MAX_UNCOVERED_BYTES} response bytes arrived without a record covering them`);
  }

  /** Writes the queued bytes; a promise only while the client pushes back (then it waits for drain). */
  private release(): Promise<void> | void {
    this.writeHead();
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (let i = 0; i < out.length; i++) {
      const b = out[i]!;
      this.clientBytes += b.length;
      const wait = writeChunk(this.res, b);
      if (wait) return this.releaseRest(wait, out, i + 1);
    }
  }

  private async releaseRest(wait: Promise<void>, out: Buffer[], from: number): Promise<void> {
    await wait;
    for (let i = from; i < out.length; i++) {
      this.clientBytes += out[i]!.length;
      await writeChunk(this.res, out[i]!);
    }
  }
}

function writeChunk(res: ServerResponse, data: Buffer): Promise<void> | void {
  if (data.length === 0 || res.destroyed) return;
  if (res.write(data)) return;
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
