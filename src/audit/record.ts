// Record shape and its canonical (RFC 8785) encoding: the bytes that are hashed, chained and logged.
import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditRecord, JsonObject, JsonValue, RecordKind } from './types.js';

export type { AuditRecord };

export const RECORD_VERSION = 1;

export const RECORD_KINDS: ReadonlySet<string> = new Set<RecordKind>([
  'connect',
  'tunnel',
  'deny',
  'request',
  'response-head',
  'chunk',
  'response-end',
  'error',
  'auth',
  'policy',
  'session-end',
  'retention',
]);

export const MAX_SESSION_ID = 200;

export function sha256(data: Uint8Array): Buffer {
  return hash('sha256', data, 'buffer');
}

export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/**
 * Checks that a meta value is canonical-JSON-safe: plain objects, arrays, strings, booleans, null
 * and safe integers only (floats would make hashing depend on number formatting).
 * Returns a path to the first offending value, or null.
 */
export function findNonCanonical(value: unknown, path = 'meta', depth = 0): string | null {
  if (depth > 32) return `${path} (nested deeper than 32 levels)`;
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'string') return wellFormed(value) ? null : `${path} (lone UTF-16 surrogate)`;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? null : `${path} (not a safe integer: ${value})`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findNonCanonical(value[i], `${path}[${i}]`, depth + 1);
      if (bad) return bad;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `${path} (not a plain object)`;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) return `${path}.${k} (undefined)`;
      if (!wellFormed(k)) return `${path} (key with a lone UTF-16 surrogate)`;
      const bad = findNonCanonical(v, `${path}.${k}`, depth + 1);
      if (bad) return bad;
    }
    return null;
  }
  return `${path} (unsupported type ${typeof value})`;
}

/** RFC 8785 canonical bytes of a JSON value. Throws on values JSON cannot carry. */
export function canonicalBytes(value: unknown): Buffer {
  const s = canonicalize(value);
  if (s === undefined) throw new TypeError('value has no JSON representation');
  return Buffer.from(s, 'utf8');
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** True when a string can be carried by canonical JSON (no lone UTF-16 surrogates). */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * RFC 8785 text of meta, validated while it is written (no separate walk over meta the proxy built).
 * Flat objects of strings, integers, booleans and null (a chunk's `{at, i, bytes}`, the bulk of all
 * records) are written directly with keys sorted by UTF-16 code units, exactly what canonicalize does
 * for them; anything nested is checked with findNonCanonical and goes through canonicalize. Throws a
 * TypeError naming the first value canonical JSON cannot carry. A test checks both paths against
 * canonicalize.
 */
export function canonicalMeta(meta: JsonObject): string {
  const keys = Object.keys(meta);
  let out = '{';
  if (keys.length > 1 && !ascending(keys)) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = meta[k];
    let t: string;
    if (typeof v === 'string') {
      if (!wellFormed(v)) throw new TypeError(`meta is not canonical JSON: meta.${k} (lone UTF-16 surrogate)`);
      t = JSON.stringify(v);
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`meta is not canonical JSON: meta.${k} (not a safe integer: ${v})`);
      t = String(v);
    } else if (typeof v === 'boolean' || v === null) t = String(v);
    else return canonicalNested(meta);
    out += (i ? ',' : '') + keyPrefix(k) + t;
  }
  return out + '}';
}

/** Keys in UTF-16 code unit order already (the proxy's metas mostly are): no sort needed. */
function ascending(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** `"key":` of the few keys flat metas use, checked and quoted once (bounded: a key past the cap is quoted each time). */
const KEY_PREFIX = new Map<string, string>();
function keyPrefix(k: string): string {
  let p = KEY_PREFIX.get(k);
  if (p !== undefined) return p;
  if (!wellFormed(k)) throw new TypeError('meta is not canonical JSON: meta (key with a lone UTF-16 surrogate)');
  p = JSON.stringify(k) + ':';
  if (KEY_PREFIX.size < 256) KEY_PREFIX.set(k, p);
  return p;
}

function canonicalNested(meta: JsonObject): string {
  const bad = findNonCanonical(meta);
  if (bad) throw new TypeError(`meta is not canonical JSON: ${bad}`);
  const c = canonicalize(meta);
  if (c === undefined) throw new TypeError('meta has no JSON representation');
  return c;
}

/**
 * RFC 8785 text of a record. The top-level keys are fixed, so they are written in canonical order
 * directly (equal output to canonicalize at a fraction of the cost; a test checks it on whole
 * records). origin and session come already JSON-quoted (the writer keeps them). Strings must be
 * well-formed (validated on append).
 */
export function recordText(r: AuditRecord, originJson: string, sessionJson: string): string {
  return (
    `{"bodyHash":${r.bodyHash === null ? 'null' : JSON.stringify(r.bodyHash)},"kind":${JSON.stringify(r.kind)},"meta":${canonicalMeta(r.meta)}` +
    `,"origin":${originJson},"seq":${r.seq},"session":${sessionJson}` +
    `,"sessionPrev":${r.sessionPrev === null ? 'null' : JSON.stringify(r.sessionPrev)},"sessionSeq":${r.sessionSeq},"ts":${r.ts},"v":${r.v}}`
  );
}

/** RFC 8785 bytes of a record (see recordText). */
export function encodeRecord(r: AuditRecord): Buffer {
  return Buffer.from(recordText(r, JSON.stringify(r.origin), JSON.stringify(r.session)), 'utf8');
}

/** Parses stored record bytes; throws a descriptive Error when the shape is wrong. */
export function decodeRecord(bytes: Uint8Array): AuditRecord {
  return parseRecordText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** decodeRecord for record text already decoded from UTF-8. */
export function parseRecordText(text: string): AuditRecord {
  const r = JSON.parse(text) as AuditRecord;
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.seq !== 'number' ||
    typeof r.session !== 'string' ||
    typeof r.sessionSeq !== 'number' ||
    typeof r.ts !== 'number' ||
    typeof r.kind !== 'string' ||
    typeof r.meta !== 'object' ||
    r.meta === null ||
    (r.sessionPrev !== null && typeof r.sessionPrev !== 'string') ||
    (r.bodyHash !== null && typeof r.bodyHash !== 'string')
  ) {
    throw new Error('record does not have the expected fields');
  }
  return r;
}

const NO_USERS: readonly string[] = Object.freeze([]);

/** Identity strings a record names (meta.identity subject and email), for --user filtering. */
export function recordUsers(meta: JsonObject): readonly string[] {
  const id = meta.identity as JsonValue | undefined;
  if (!id || typeof id !== 'object' || Array.isArray(id)) return NO_USERS;
  const out: string[] = [];
  if (typeof id.subject === 'string' && id.subject) out.push(id.subject);
  if (typeof id.email === 'string' && id.email) out.push(id.email);
  return out;
}

/** `name/version` of the agent a proxy recorded in meta.agent (see src/proxy/user-agent.ts), or none. */
export function recordAgents(meta: JsonObject): readonly string[] {
  const a = meta.agent as JsonValue | undefined;
  if (!a || typeof a !== 'object' || Array.isArray(a) || typeof a.name !== 'string' || !a.name) return NO_USERS;
  return [typeof a.version === 'string' && a.version ? `${a.name}/${a.version}` : a.name];
}
