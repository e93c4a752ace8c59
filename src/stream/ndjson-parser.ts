// Incremental newline-delimited JSON reader (Ollama, JSON Lines). Lines end at LF (an optional CR
// before it is dropped); blank lines are skipped; an unterminated last line is returned at end().
// Lines are returned as text: the adapter decides what to do with text that is not JSON.
import { StringDecoder } from 'node:string_decoder';

export class NdjsonParser {
  private readonly decoder = new StringDecoder('utf8');
  private bomChecked = false;
  private partial: string[] = [];

  private decode(chunk: Uint8Array): string {
    return this.stripBom(this.decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  /** One leading U+FEFF is not content (the UTF-8 decode step of the spec drops it). */
  private stripBom(text: string): string {
    if (this.bomChecked || text.length === 0) return text;
    this.bomChecked = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? this.stripBom(chunk) : this.decode(chunk);
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.partial.push(text.slice(start, nl));
      const line = this.partial.length === 1 ? this.partial[0]! : this.partial.join('');
      this.partial = [];
      start = nl + 1;
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed.trim() !== '') out.push(trimmed);
    }
    if (start < text.length) this.partial.push(text.slice(start));
    return out;
  }

  end(): string[] {
    const out = this.push(this.stripBom(this.decoder.end()));
    const last = this.partial.join('');
    this.partial = [];
    const trimmed = last.endsWith('\r') ? last.slice(0, -1) : last;
    if (trimmed.trim() !== '') out.push(trimmed);
    return out;
  }
}
