// Incremental newline-delimited JSON reader (Ollama, JSON Lines). Lines end at LF (an optional CR
// before it is dropped); blank lines are skipped; an unterminated last line is returned at end().
// Lines are returned as text: the adapter decides what to do with text that is not JSON.
// A line longer than the cap stops the reader (`error`); the part seen is in `tail()`.
import { DEFAULT_MAX_EVENT_SIZE, EventTooLargeError } from './sse-parser.js';
import { StreamTextDecoder } from './text-decoder.js';

export class NdjsonParser {
  private readonly text = new StreamTextDecoder(); // keeps a split UTF-8 sequence for the next read
  private partial: string[] = [];
  private size = 0;
  private tooLarge: EventTooLargeError | null = null;

  constructor(private readonly maxLineSize = DEFAULT_MAX_EVENT_SIZE) {}

  /** Set once a line outgrew the cap; later pushes return nothing. */
  get error(): EventTooLargeError | null {
    return this.tooLarge;
  }

  /** The unfinished line held when the reader stopped (at most the cap). */
  tail(): string {
    const t = this.partial.join('');
    this.partial = [];
    this.size = 0;
    return t;
  }

  push(chunk: Uint8Array | string): string[] {
    if (this.tooLarge) return [];
    const text = this.text.push(chunk);
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl;
      this.size += end - start;
      if (this.size > this.maxLineSize) {
        const room = Math.max(0, end - start - (this.size - this.maxLineSize));
        this.partial.push(text.slice(start, start + room));
        this.tooLarge = new EventTooLargeError(this.maxLineSize);
        return out;
      }
      if (nl < 0) break;
      this.size = 0;
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
    if (this.tooLarge) return [];
    const out = this.push(this.text.end());
    if (this.tooLarge) return out;
    const last = this.tail();
    const trimmed = last.endsWith('\r') ? last.slice(0, -1) : last;
    if (trimmed.trim() !== '') out.push(trimmed);
    return out;
  }
}
