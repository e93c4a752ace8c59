// What every provider adapter implements. An adapter instance serves one lane (client or record):
// it masks the decoded text fields of each message through that lane's channels and returns the
// messages to emit, possibly with a synthesized message carrying released text before an end signal.
import type { Json, JsonObj, Lane } from '../lane.js';
import type { EventHeader } from '../eventstream.js';

/** An SSE event (event name, data, id), an NDJSON line (data only) or an AWS event-stream message. */
export interface Msg {
  event?: string;
  data: string;
  id?: string;
  /**
   * The event-stream frame the message came in (its headers, and how its payload was decoded), so the
   * serializer re-frames it as it came. Adapters carry it along by spreading the message; a message they
   * synthesize has none and gets default headers.
   */
  frame?: FrameInfo;
}

export interface FrameInfo {
  headers: EventHeader[];
  /** The payload was not UTF-8: `data` holds it as latin1 (one char per byte), masked as text. */
  latin1: boolean;
}

export interface StreamAdapter {
  /**
   * Handles one message; returns what to emit in its place (in order). `parsed` is msg.data parsed
   * as JSON (undefined when it is not JSON); the adapter owns it and may change it in place.
   */
  message(msg: Msg, parsed: Json | undefined): Msg[];
  /** End of stream (normal end or abort): releases every open channel as messages to append. */
  finish(): Msg[];
  /** A non-streamed JSON body: masks it in place, returns true when something changed. */
  json(body: Json): boolean;
}

export function isObj(v: unknown): v is JsonObj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** JSON.parse that reports failure as undefined instead of throwing. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/**
 * A message whose data is not JSON (broken stream, truncated event): pass it on, masked as text.
 * Returns the original message when masking changes nothing.
 */
export function textFallback(lane: Lane, msg: Msg): Msg {
  const masked = lane.text(msg.data);
  return masked === msg.data ? msg : { ...msg, data: masked };
}

/** Deep copy of a parsed JSON value (several times faster than parsing the text again). */
export function cloneJson<T extends Json>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = cloneJson(v[i]!);
    return a as T;
  }
  const o: JsonObj = {};
  for (const k of Object.keys(v)) {
    // an own `__proto__` key (JSON.parse makes one) must stay a key, not become the prototype
    if (k === '__proto__') Object.defineProperty(o, k, { value: cloneJson(v[k]!), writable: true, enumerable: true, configurable: true });
    else o[k] = cloneJson(v[k]!);
  }
  return o as T;
}

export function out(msg: Msg, obj: Json, changed: boolean): Msg {
  return changed ? { ...msg, data: JSON.stringify(obj) } : msg;
}

/** Generic non-streamed body: every string except identifiers and opaque blobs. */
export function maskJsonBody(lane: Lane, body: Json): boolean {
  return lane.walk(body);
}
