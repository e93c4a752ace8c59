// Incremental newline-delimited JSON reader (Ollama, JSON Lines). Lines end at LF (an optional CR
// before it is dropped); blank lines are skipped; an unterminated last line is returned at end().
// Lines are returned as text: the adapter decides what to do with text that is not JSON.
import { StreamTextDecoder } from './text-decoder.js';

export class NdjsonParser {
  private readonly text = new StreamTextDecoder(); // keeps a split UTF-8 sequence for the next read
  private partial: string[] = [];

  push(chunk: Uint8Array | string): string[] {
    const text = this.text.push(chunk);
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
    const out = this.push(this.text.end());
    const last = this.partial.join('');
    this.partial = [];
    const trimmed = last.endsWith('\r') ? last.slice(0, -1) : last;
    if (trimmed.trim() !== '') out.push(trimmed);
    return out;
  }
}
