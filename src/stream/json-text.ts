// JSON text as the masker must see it. The masker works on the parsed value, but the proxy forwards
// and records text; the two must mean the same thing, or a secret can ride in the part of the text
// the parsed value does not show. Where they can differ:
//
// - duplicate keys: JSON.parse keeps the last, so `{"a":"<secret>","a":"x"}` parses to "x" while
//   the text (which another parser may read differently: RFC 8259 leaves it undefined) carries the
//   secret. Such text is never passed on as it is: the caller re-serialises the parsed (masked)
//   value, so what leaves is exactly what the masker saw. We re-serialise rather than refuse
//   because JS, Python and Go parsers all keep the last duplicate too, so the receiver gets what
//   it would most likely have read, and no legitimate client is broken by a 400.
// - `\u` escapes (in keys too) are decoded by the parser before masking; unambiguous text decodes
//   to the same value in any conforming parser, so it may be passed on unchanged.
// - lone surrogates (`"\ud800"`): a receiver may drop them, joining the halves of a token the
//   masker saw apart. They are replaced by U+FFFD and the value re-serialised.
// - a leading BOM: JSON.parse refuses it, some receivers skip it. It is dropped and the value
//   re-serialised.
// - text JSON.parse refuses (NaN, Infinity, comments, trailing commas — Python's json accepts the
//   first two) cannot be masked as a value: masked as text, a `\u`-escaped secret would pass.
//   The caller refuses it on the request side and masks it as text on the response side.
// - nesting: the depth is bounded before anything recursive runs (walk, clone, stringify).
import type { Json } from './lane.js';

/** Deepest nesting accepted; far beyond any API schema, far below the stack limit. */
export const MAX_JSON_DEPTH = 512;

export type JsonText =
  /** `canonical` false: the text must not be passed on as it is; send JSON.stringify(value). */
  | { ok: true; value: Json; canonical: boolean }
  /** Never echoes the text (it may hold a secret). */
  | { ok: false; reason: string };

interface Shape {
  tooDeep: boolean;
  duplicates: boolean;
  surrogates: boolean;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Parses JSON text and says whether it may be passed on as it is (see the file comment). */
export function parseJsonText(text: string): JsonText {
  let canonical = true;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    canonical = false;
  }
  const shape = scanShape(text);
  if (shape.tooDeep) return { ok: false, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (shape.duplicates) canonical = false;
  if (shape.surrogates) {
    const fixed = wellFormed(value, 0);
    if (fixed.changed) {
      value = fixed.value;
      canonical = false;
    }
  }
  return { ok: true, value, canonical };
}

/**
 * One pass over the text: nesting depth, duplicate keys per object (compared decoded), and whether
 * a surrogate escape occurs. Strings are skipped with indexOf, so the cost is mostly memchr.
 * Malformed text is left to JSON.parse to refuse; this pass only has to be right on valid JSON.
 */
function scanShape(text: string): Shape {
  const shape: Shape = { tooDeep: false, duplicates: false, surrogates: false };
  // one entry per open container: null for an array; for an object its first key (a string) until
  // a second one arrives, then the set of keys (most objects in a stream event have few keys)
  const stack: Array<Set<string> | string | null | undefined> = [];
  let expectKey = false;
  let backslash = -1; // position of the next backslash (amortised: each is found once)
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = stringEnd(text, i + 1);
      if (end < 0) return shape;
      const start = i;
      i = end;
      if (backslash <= start) backslash = nextBackslash(text, start + 1);
      const escaped = backslash < end;
      if (escaped && !shape.surrogates && SURROGATE_ESCAPE.test(text.slice(start + 1, end))) shape.surrogates = true;
      if (expectKey) {
        const raw = text.slice(start + 1, end);
        expectKey = false;
        const key = escaped ? decodeString(raw) : raw;
        const top = stack.length - 1;
        const keys = stack[top];
        if (keys === undefined) stack[top] = key;
        else if (typeof keys === 'string') {
          if (keys === key) shape.duplicates = true;
          else stack[top] = new Set([keys, key]);
        } else if (keys instanceof Set) {
          if (keys.has(key)) shape.duplicates = true;
          else keys.add(key);
        }
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) {
        shape.tooDeep = true;
        return shape;
      }
      stack.push(c === 123 ? undefined : null);
      expectKey = c === 123;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 44 /* , */) {
      // the next string is a key when the open container is an object
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    }
  }
  return shape;
}

function nextBackslash(text: string, from: number): number {
  const b = text.indexOf('\\', from);
  return b < 0 ? Number.MAX_SAFE_INTEGER : b;
}

/** Index of the closing quote of a string whose body starts at `from`, or -1. */
function stringEnd(text: string, from: number): number {
  let j = from;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let bs = 0;
    for (let k = q - 1; k >= from && text.charCodeAt(k) === 92; k--) bs++;
    if (bs % 2 === 0) return q;
    j = q + 1;
  }
}

function decodeString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // invalid escape: JSON.parse of the whole text refuses it
  }
}

/** Replaces lone surrogates in every string and key by U+FFFD (depth already bounded). */
function wellFormed(v: Json, depth: number): { value: Json; changed: boolean } {
  if (typeof v === 'string') {
    const w = v.replace(LONE_SURROGATE, '\ufffd');
    return { value: w, changed: w !== v };
  }
  if (v === null || typeof v !== 'object' || depth > MAX_JSON_DEPTH) return { value: v, changed: false };
  let changed = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = wellFormed(v[i]!, depth + 1);
      if (r.changed) {
        v[i] = r.value;
        changed = true;
      }
    }
    return { value: v, changed };
  }
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v)) {
    const r = wellFormed(v[k]!, depth + 1);
    const key = k.replace(LONE_SURROGATE, '\ufffd');
    if (r.changed || key !== k) changed = true;
    Object.defineProperty(out, key, { value: r.value, writable: true, enumerable: true, configurable: true });
  }
  return { value: changed ? out : v, changed };
}
