// Incremental server-sent events parser following the WHATWG "event stream interpretation"
// algorithm (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
// Bytes may be split anywhere: inside a UTF-8 sequence, between a CR and its LF, inside a field.
import { StreamTextDecoder } from './text-decoder.js';

/**
 * Default cap on one event (its unfinished line plus the fields gathered for its block), in UTF-16
 * code units of decoded text (bytes for ASCII). undici's EventSource bounds events the same way
 * (maxEventSize); ours is larger because one event of a non-streamed-looking provider answer
 * (`response.completed` repeats the whole output) can carry megabytes.
 */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

/** An event or line that exceeded its cap: the stream cannot be read on. */
export class EventTooLargeError extends Error {
  readonly code = 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`an upstream event exceeded ${limit} characters without ending`);
  }
}

/** One dispatched event. `event` is the raw event type buffer ('' when the block had no `event:` line). */
export interface SseEvent {
  event: string;
  data: string;
  /** Set only when this event's block carried a valid `id` line (serialisers re-emit it). */
  id?: string;
  /** The last event ID in effect at dispatch time (WHATWG lastEventId). */
  lastEventId: string;
}

export type SseItem =
  | { kind: 'event'; event: SseEvent }
  /** A comment line (text after the colon), reported as soon as its line ends. */
  | { kind: 'comment'; text: string }
  /** A valid `retry:` line, reported as soon as its line ends. */
  | { kind: 'retry'; ms: number }
  /** A block ended by a blank line without data but with an `id` line: it changes the last event ID. */
  | { kind: 'id'; id: string };

export class SseParser {
  private readonly text = new StreamTextDecoder(); // keeps a split UTF-8 sequence for the next read
  private line: string[] = []; // pieces of the current, unfinished line
  private lastWasCR = false; // the previous text ended with CR: an LF at the next start belongs to it
  private data: string[] = [];
  private hasData = false;
  private eventType = '';
  private blockId: string | undefined;
  private lastEventId = '';
  private items: SseItem[] = [];
  /** Characters held for the current block: unfinished line pieces and gathered fields. */
  private size = 0;
  private tooLarge: EventTooLargeError | null = null;

  constructor(private readonly maxEventSize = DEFAULT_MAX_EVENT_SIZE) {}

  /**
   * Feeds bytes (or already decoded text); returns the items completed by them. Once an event
   * outgrows the cap, `error` is set, the items completed before it are returned, and every later
   * push returns nothing: what was held is in end()'s `tail`.
   */
  push(chunk: Uint8Array | string): SseItem[] {
    if (this.tooLarge) return [];
    const text = this.text.push(chunk);
    this.scan(text);
    return this.take();
  }

  /** Set once an event outgrew the cap. */
  get error(): EventTooLargeError | null {
    return this.tooLarge;
  }

  /**
   * Ends the stream. Per the spec an unterminated final block is discarded; its text is returned
   * in `tail` (the unfinished line plus the fields already seen) so callers can keep a masked trace.
   */
  end(): { items: SseItem[]; tail: string } {
    if (!this.tooLarge) this.scan(this.text.end());
    const tail = this.pendingText();
    this.line = [];
    this.size = 0;
    this.resetBlock();
    return { items: this.take(), tail };
  }

  /** True when bytes of an unfinished block are buffered. */
  get pending(): boolean {
    return this.line.length > 0 || this.hasData || this.eventType !== '' || this.blockId !== undefined;
  }

  private pendingText(): string {
    const parts: string[] = [];
    if (this.eventType) parts.push(`event: ${this.eventType}\n`);
    if (this.blockId !== undefined) parts.push(`id: ${this.blockId}\n`);
    if (this.hasData) {
      const d = this.data.join('');
      for (const l of d.slice(0, -1).split('\n')) parts.push(`data: ${l}\n`);
    }
    parts.push(this.line.join(''));
    return parts.join('');
  }

  private take(): SseItem[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  private scan(text: string): void {
    let start = 0;
    const n = text.length;
    if (this.lastWasCR && n > 0) {
      this.lastWasCR = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    const eol = /[\r\n]/g;
    eol.lastIndex = start;
    for (let m = eol.exec(text); m !== null; m = eol.exec(text)) {
      let i = m.index;
      const c = text.charCodeAt(i);
      if (this.grow(i - start, text, start)) return;
      this.line.push(text.slice(start, i));
      const line = this.line.length === 1 ? this.line[0]! : this.line.join('');
      // only data accumulates across lines; an event/id value replaces the last, comments pass
      if (!this.processLine(line)) this.size -= line.length;
      this.line = [];
      if (c === 13) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.lastWasCR = true;
        }
      }
      start = i + 1;
      eol.lastIndex = start;
    }
    if (start < n && !this.grow(n - start, text, start)) this.line.push(text.slice(start));
  }

  /**
   * Counts `n` more characters for the current block; past the cap, keeps up to the cap of them
   * (so end()'s tail shows what was seen) and stops the parser. Returns true when stopped.
   */
  private grow(n: number, text: string, start: number): boolean {
    this.size += n;
    if (this.size <= this.maxEventSize) return false;
    const room = Math.max(0, n - (this.size - this.maxEventSize));
    if (room > 0) this.line.push(text.slice(start, start + room));
    this.tooLarge = new EventTooLargeError(this.maxEventSize);
    return true;
  }

  /** Returns true when the line's text stays held (a data line). */
  private processLine(line: string): boolean {
    if (line.length === 0) {
      this.dispatch();
      return true; // dispatch reset the count
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.items.push({ kind: 'comment', text: line.slice(1) });
      return false;
    }
    let field: string;
    let value: string;
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    } else {
      field = line;
      value = '';
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value, '\n');
        this.hasData = true;
        return true;
      case 'id':
        if (!value.includes('\u0000')) {
          this.lastEventId = value;
          this.blockId = value;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.items.push({ kind: 'retry', ms: Number.parseInt(value, 10) });
        break;
      default:
        break; // unknown fields are ignored
    }
    return false;
  }

  private dispatch(): void {
    this.size = 0;
    if (!this.hasData) {
      if (this.blockId !== undefined) this.items.push({ kind: 'id', id: this.blockId });
      this.resetBlock();
      return;
    }
    const joined = this.data.length === 2 ? this.data[0]! : this.data.join('').slice(0, -1);
    const event: SseEvent = { event: this.eventType, data: joined, lastEventId: this.lastEventId };
    if (this.blockId !== undefined) event.id = this.blockId;
    this.items.push({ kind: 'event', event });
    this.resetBlock();
  }

  private resetBlock(): void {
    this.data = [];
    this.hasData = false;
    this.eventType = '';
    this.blockId = undefined;
  }
}
