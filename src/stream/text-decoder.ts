// Incremental UTF-8 decoding shared by the SSE and NDJSON parsers: characters split across reads are
// joined, and one leading U+FEFF is dropped (the UTF-8 decode step of the WHATWG spec).
import { StringDecoder } from 'node:string_decoder';

export class StreamTextDecoder {
  private readonly decoder = new StringDecoder('utf8');
  private bomChecked = false;

  /** Bytes (or already decoded text) in, text out. */
  push(chunk: Uint8Array | string): string {
    if (typeof chunk === 'string') return this.stripBom(chunk);
    return this.stripBom(this.decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  /** Whatever a truncated character left at the end (decoded as replacement characters). */
  end(): string {
    return this.stripBom(this.decoder.end());
  }

  private stripBom(text: string): string {
    if (this.bomChecked || text.length === 0) return text;
    this.bomChecked = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}
