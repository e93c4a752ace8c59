// The response side: decode the body, parse its framing, let the adapter mask each message on two
// lanes (what the client gets, what the log records), and serialise the result chunk by chunk.
import { TextDecoder } from 'node:util';
import { createAdapter, PassAdapter, type Msg, type StreamAdapter } from './adapters/index.js';
import { cloneJson } from './adapters/base.js';
import { BodyDecoder, parseContentEncoding } from './content-encoding.js';
import { parseJsonText } from './json-text.js';
import { Lane, type Json } from './lane.js';
import { NdjsonParser } from './ndjson-parser.js';
import { opaqueSchema } from './opaque.js';
import { apiFromPath, confirmApi, framingOf, getHeader, type Api } from './select.js';
import { DEFAULT_MAX_EVENT_SIZE, SseParser, type SseItem } from './sse-parser.js';
import { EventStreamParser } from './eventstream.js';
import { brokenStreamFrame, frameToMsg, msgToFrame } from './eventstream-frames.js';
import { serializeEvent, serializeItem } from './sse-serializer.js';
import type { ExchangeMeta, Finding, MaskSession, Output, ProcessorOptions, ResponseMasks, ResponseMeta, ResponseProcessor } from './types.js';

/** Largest non-streamed JSON body parsed whole; a bigger one is masked as a text stream. */
const JSON_MAX_BYTES = 32 * 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

type Mode = 'sse' | 'ndjson' | 'json' | 'eventstream' | 'text' | 'none';

/** Why a stream could not be read on (an oversize event, a bad event-stream frame). */
interface StreamBreak {
  code: string;
  message: string;
}

/** Headers that describe the upstream bytes, not the body we send once we re-serialise it. */
const BODY_HEADERS = new Set(['content-encoding', 'content-length', 'content-md5']);

const TEXTUAL = /^(text\/|application\/(json|x-ndjson|ndjson|jsonl|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;

interface LaneCtx {
  lane: Lane;
  /** The record lane always masks; the client lane may be absent (raw bytes). */
  record: boolean;
  adapter: StreamAdapter | null;
  out: string[];
  /** Text mode: decoder of the body bytes, and how masked text is encoded back. */
  text?: { decoder: TextDecoder | null; latin1: boolean };
}

/**
 * Response headers the client needs byte for byte: framing, and the provider's session cookie (a
 * credential meant for the client, like the request's Authorization is meant for the provider).
 */
const CLIENT_HEADERS_KEPT = new Set(['set-cookie', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding']);

/** The headers for the client: body headers dropped when re-serialising, values masked when the client lane masks. */
function copyHeaders(h: ResponseMeta['headers'], drop: Set<string> | null, mask: MaskSession | null): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const one = (name: string, v: string): string => (mask && !CLIENT_HEADERS_KEPT.has(name) && v.length >= 8 ? mask.maskText(v).text : v);
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (drop && drop.has(name)) continue;
    out[k] = Array.isArray(v) ? v.map((x) => one(name, x)) : one(name, v);
  }
  return out;
}

class Processor implements ResponseProcessor {
  readonly headers: Record<string, string | string[]>;
  private readonly mode: Mode;
  private readonly hint: Api | null;
  private api: Api | null;
  private resolved = false;
  private readonly clientRaw: boolean;
  private readonly decoder: BodyDecoder | null;
  private decodeFailed = false;
  private readonly sse: SseParser | null;
  private readonly ndjson: NdjsonParser | null;
  private readonly frames: EventStreamParser | null;
  private readonly lanes: LaneCtx[] = [];
  private jsonParts: Buffer[] = [];
  private jsonSize = 0;
  private textFallbackFromJson = false;
  private finished = false;
  private brokenBy: StreamBreak | null = null;
  /**
   * The client and the log mask with the same session (masked both ways): one lane does the work and
   * its output serves both, instead of masking every message twice. Split into two lanes only where
   * the sides differ (an unknown API passes the client's copy unmasked; an oversize event ends them differently).
   */
  private shared: boolean;
  private readonly clientMask: MaskSession | null;

  constructor(ex: ExchangeMeta, res: ResponseMeta, mask: ResponseMasks, opts: ProcessorOptions = {}) {
    const codings = parseContentEncoding(getHeader(res.headers, 'content-encoding'));
    const contentType = getHeader(res.headers, 'content-type');
    const noBody = ex.method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304 || res.status < 200;
    this.hint = apiFromPath(ex.path);
    const framing = framingOf(contentType);
    if (codings === null) this.mode = 'none'; // an encoding we cannot decode: nothing can be masked
    // AWS event streams are parsed for the Bedrock APIs only; elsewhere they are binary text (masked in the record)
    else if (!noBody && this.hint && framing && (framing !== 'eventstream' || this.hint.startsWith('bedrock-'))) this.mode = framing;
    else this.mode = 'text';
    this.api = this.mode === 'text' || this.mode === 'none' ? null : this.hint;

    this.clientRaw = mask.client === null || this.mode === 'text' || this.mode === 'none';
    // a header a malicious upstream fills reaches the client like the body does
    this.headers = copyHeaders(res.headers, this.clientRaw ? null : BODY_HEADERS, mask.client);
    this.decoder = codings && codings.length > 0 && this.mode !== 'none' ? new BodyDecoder(codings) : null;
    const maxEvent = opts.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
    this.sse = this.mode === 'sse' ? new SseParser(maxEvent) : null;
    this.ndjson = this.mode === 'ndjson' ? new NdjsonParser(maxEvent) : null;
    this.frames = this.mode === 'eventstream' ? new EventStreamParser(maxEvent) : null;

    this.clientMask = mask.client;
    this.shared = !this.clientRaw && mask.client === mask.record && this.mode !== 'none';
    if (this.mode !== 'none') this.lanes.push({ lane: new Lane(mask.record), record: true, adapter: null, out: [] });
    if (!this.clientRaw && mask.client && !this.shared) this.lanes.push({ lane: new Lane(mask.client), record: false, adapter: null, out: [] });
    if (this.mode === 'text') {
      const latin1 = !TEXTUAL.test(contentType ?? 'text/plain');
      for (const l of this.lanes) l.text = { decoder: latin1 ? null : new TextDecoder('utf-8'), latin1 };
    }
  }

  get adapter(): string {
    if (this.mode === 'text' || this.mode === 'none') return 'passthrough';
    if (this.resolved) return this.api ?? 'passthrough';
    return this.hint ?? 'passthrough';
  }

  get broken(): { code: string; reason: string } | null {
    return this.brokenBy ? { code: this.brokenBy.code, reason: this.brokenBy.message } : null;
  }

  get findings(): Finding[] {
    const rec = this.lanes.find((l) => l.record);
    return rec ? rec.lane.findings : [];
  }

  /** Synchronous (no promise per chunk) unless a decoder is involved. */
  push(chunk: Buffer): Output | Promise<Output> {
    if (this.finished) return { client: EMPTY, record: EMPTY };
    if (this.decoder && !this.decodeFailed) return this.decodeAndPush(chunk);
    return this.pushDecoded(chunk, this.decoder ? EMPTY : chunk);
  }

  private async decodeAndPush(chunk: Buffer): Promise<Output> {
    let decoded: Buffer;
    try {
      decoded = await this.decoder!.write(chunk);
    } catch {
      this.decodeFailed = true; // corrupt upstream encoding: the rest cannot be read
      decoded = EMPTY;
    }
    return this.pushDecoded(chunk, decoded);
  }

  private pushDecoded(chunk: Buffer, decoded: Buffer): Output {
    if (decoded.length > 0) this.feed(decoded);
    const tooLarge = this.sse?.error ?? this.ndjson?.error ?? this.frames?.error ?? null;
    if (tooLarge) {
      this.brokenBy = tooLarge;
      this.decoder?.destroy();
      this.finish();
      // the client must not get raw upstream bytes past this point either
      if (this.clientRaw) return { client: EMPTY, record: this.collect(EMPTY).record };
    }
    return this.collect(chunk);
  }

  async end(): Promise<Output> {
    if (this.finished) return { client: EMPTY, record: EMPTY };
    let tail = EMPTY;
    if (this.decoder && !this.decodeFailed) {
      try {
        tail = await this.decoder.end();
      } catch {
        this.decodeFailed = true;
      }
    }
    if (tail.length > 0) this.feed(tail);
    this.finish();
    return this.collect(EMPTY);
  }

  abort(): Output {
    if (this.finished) return { client: EMPTY, record: EMPTY };
    this.decoder?.destroy();
    this.finish();
    return this.collect(EMPTY);
  }

  private collect(raw: Buffer): Output {
    let client = EMPTY;
    let record = EMPTY;
    for (const l of this.lanes) {
      if (l.out.length === 0) continue;
      const s = l.out.length === 1 ? l.out[0]! : l.out.join('');
      l.out = [];
      const b = s.length === 0 ? EMPTY : Buffer.from(s, l.text?.latin1 || this.mode === 'eventstream' ? 'latin1' : 'utf8');
      if (l.record) record = b;
      else client = b;
    }
    if (this.shared) client = record;
    return { client: this.clientRaw ? raw : client, record };
  }

  private feed(decoded: Buffer): void {
    switch (this.mode) {
      case 'sse':
        for (const item of this.sse!.push(decoded)) this.sseItem(item);
        break;
      case 'ndjson':
        for (const line of this.ndjson!.push(decoded)) this.message({ data: line }, ndjsonLine);
        break;
      case 'eventstream':
        for (const m of this.frames!.push(decoded)) this.message(frameToMsg(m), msgToFrame);
        break;
      case 'json':
        if (this.textFallbackFromJson) {
          this.feedText(decoded);
          break;
        }
        this.jsonParts.push(decoded);
        this.jsonSize += decoded.length;
        if (this.jsonSize > JSON_MAX_BYTES) {
          // too big to hold: mask what we have as a text stream and go on that way
          this.textFallbackFromJson = true;
          for (const l of this.lanes) l.text = { decoder: new TextDecoder('utf-8'), latin1: false };
          const parts = this.jsonParts;
          this.jsonParts = [];
          for (const p of parts) this.feedText(p);
        }
        break;
      case 'text':
        this.feedText(decoded);
        break;
      case 'none':
        break;
    }
  }

  private feedText(b: Buffer): void {
    for (const l of this.lanes) {
      const t = l.text!;
      const s = t.decoder ? t.decoder.decode(b, { stream: true }) : b.toString('latin1');
      if (s) l.out.push(l.lane.push('body', s));
    }
  }

  private sseItem(item: SseItem): void {
    if (item.kind === 'event') {
      const e = item.event;
      const msg: Msg = { data: e.data };
      if (e.event) msg.event = e.event;
      if (e.id !== undefined) msg.id = e.id;
      this.message(msg, serializeEvent);
      return;
    }
    for (const l of this.lanes) {
      if (item.kind === 'comment') l.out.push(serializeItem({ kind: 'comment', text: l.lane.text(item.text) }));
      else if (item.kind === 'id') l.out.push(serializeItem({ kind: 'id', id: l.lane.text(item.id) }));
      else l.out.push(serializeItem(item));
    }
  }

  /** The SSE `event:` and `id:` values reach the client and the log like the data: masked. */
  private maskFields(lane: Lane, msg: Msg): Msg {
    const event = msg.event === undefined ? undefined : lane.text(msg.event);
    const id = msg.id === undefined ? undefined : lane.text(msg.id);
    if (event === msg.event && id === msg.id) return msg;
    const m: Msg = { ...msg };
    if (event !== undefined) m.event = event;
    if (id !== undefined) m.id = id;
    return m;
  }

  /** Decides the adapter from the first payload, then builds one adapter per lane. */
  private resolve(first: Json | undefined): void {
    this.resolved = true;
    if (first !== undefined && this.hint) this.api = confirmApi(this.hint, first);
    if (!this.api) this.unshare();
    for (const l of this.lanes) {
      l.lane.useSchema(opaqueSchema(this.api, 'response'));
      l.adapter = this.api ? createAdapter(this.api, l.lane) : new PassAdapter(l.record ? l.lane : null);
    }
  }

  private message(msg: Msg, write: (m: Msg, lane: Lane) => string): void {
    // parsed once; every lane but the last gets its own copy, since adapters edit in place
    let parsed: Json | undefined;
    if (msg.data !== '' && msg.data !== '[DONE]') {
      const p = parseJsonText(msg.data);
      if (p.ok) {
        parsed = p.value;
        // ambiguous data (duplicate keys…) never goes on as it came: an unchanged event keeps its
        // data bytes, so those bytes must be the ones the masker saw
        if (!p.canonical) msg = { ...msg, data: JSON.stringify(parsed) };
      }
    }
    if (!this.resolved) this.resolve(parsed);
    const last = this.lanes.length - 1;
    for (let i = 0; i <= last; i++) {
      const l = this.lanes[i]!;
      const lm = this.maskFields(l.lane, msg);
      let msgs: Msg[];
      try {
        msgs = l.adapter!.message(lm, i === last || parsed === undefined ? parsed : cloneJson(parsed));
      } catch {
        // an adapter must never take the stream down: pass the message on, masked as text
        msgs = [{ ...lm, data: l.lane.text(msg.data) }];
      }
      for (const m of msgs) l.out.push(write(m, l.lane));
    }
  }

  /** Gives the client its own lane from here on; what the shared lane emitted so far is the client's too. */
  private unshare(): void {
    if (!this.shared) return;
    this.shared = false;
    const rec = this.lanes[0]!;
    const client: LaneCtx = { lane: new Lane(this.clientMask!), record: false, adapter: null, out: [...rec.out] };
    if (rec.text) client.text = { decoder: rec.text.decoder ? new TextDecoder('utf-8') : null, latin1: rec.text.latin1 };
    this.lanes.push(client);
  }

  private finish(): void {
    this.finished = true;
    switch (this.mode) {
      case 'sse': {
        const { items, tail } = this.sse!.end();
        for (const item of items) this.sseItem(item);
        this.finishAdapters(serializeEvent);
        if (this.brokenBy) {
          this.brokenTail(tail, `:wiretrail: stream ended: ${this.brokenBy.message}\n\n`);
          break;
        }
        // the unterminated last block (the spec discards it): passed on masked, as the bytes were
        if (tail) for (const l of this.lanes) l.out.push(l.lane.text(tail));
        break;
      }
      case 'ndjson':
        for (const line of this.ndjson!.end()) this.message({ data: line }, ndjsonLine);
        this.finishAdapters(ndjsonLine);
        if (this.brokenBy) this.brokenTail(this.ndjson!.tail(), '');
        break;
      case 'eventstream': {
        const { tail } = this.frames!.end();
        this.finishAdapters(msgToFrame);
        // a message cut short or refused: the record keeps its bytes (masked); the client never gets them
        if (this.brokenBy) this.brokenTail(tail.toString('latin1'), brokenStreamFrame(this.brokenBy.message));
        else if (tail.length) {
          this.unshare();
          for (const l of this.lanes) if (l.record) l.out.push(l.lane.text(tail.toString('latin1')));
        }
        break;
      }
      case 'json':
        if (this.textFallbackFromJson) this.finishText();
        else this.finishJson();
        break;
      case 'text':
        this.finishText();
        break;
      case 'none':
        break;
    }
  }

  /**
   * An oversize event: the record keeps what was seen of it (masked, it may hold a secret); the
   * client gets only complete events and, for SSE, a comment saying why the stream ended (clients
   * ignore comments; a person reading the stream sees the reason).
   */
  private brokenTail(tail: string, clientNote: string): void {
    this.unshare();
    for (const l of this.lanes) {
      if (l.record) {
        if (tail) l.out.push(l.lane.text(tail));
      } else if (clientNote) l.out.push(clientNote);
    }
  }

  private finishAdapters(write: (m: Msg, lane: Lane) => string): void {
    if (!this.resolved) return; // no message ever came: nothing is held
    for (const l of this.lanes) {
      let msgs: Msg[] = [];
      try {
        msgs = l.adapter!.finish();
      } catch {
        msgs = [];
      }
      for (const m of msgs) l.out.push(write(m, l.lane));
    }
  }

  private finishText(): void {
    for (const l of this.lanes) {
      const t = l.text!;
      const rest = t.decoder ? t.decoder.decode() : '';
      if (rest) l.out.push(l.lane.push('body', rest));
      l.out.push(l.lane.flush('body'));
    }
  }

  private finishJson(): void {
    const text = new TextDecoder('utf-8').decode(this.jsonParts.length === 1 ? this.jsonParts[0]! : Buffer.concat(this.jsonParts));
    this.jsonParts = [];
    if (text.length === 0) return;
    const p = parseJsonText(text);
    const first = p.ok ? p.value : undefined;
    this.resolve(first);
    // every lane but the last gets its own copy, taken before any adapter edits the value
    const bodies = this.lanes.map((_, i) => (first === undefined || i === this.lanes.length - 1 ? first : cloneJson(first)));
    this.lanes.forEach((l, i) => {
      const body = bodies[i];
      if (body === undefined || !p.ok) {
        l.out.push(l.lane.text(text)); // not JSON after all (or truncated, too deep): masked as text
        return;
      }
      let changed: boolean;
      try {
        changed = l.adapter!.json(body);
      } catch {
        l.out.push(l.lane.text(text));
        return;
      }
      l.out.push(changed || !p.canonical ? JSON.stringify(body) : text);
    });
  }
}

function ndjsonLine(m: Msg): string {
  return m.data + '\n';
}

export function createResponseProcessor(ex: ExchangeMeta, res: ResponseMeta, mask: ResponseMasks, opts?: ProcessorOptions): ResponseProcessor {
  return new Processor(ex, res, mask, opts);
}
