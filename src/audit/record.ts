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
 * RFC 8785 bytes of a record. The top-level keys are fixed, so they are written in canonical order
 * directly and only meta goes through `canonicalize` (equal output, a fraction of the cost; a test
 * checks it against canonicalize on whole records). Strings must be well-formed (validated on append).
 */
export function encodeRecord(r: AuditRecord): Buffer {
  const meta = canonicalize(r.meta);
  if (meta === undefined) throw new TypeError('meta has no JSON representation');
  const s =
    `{"bodyHash":${r.bodyHash === null ? 'null' : JSON.stringify(r.bodyHash)},"kind":${JSON.stringify(r.kind)},"meta":${meta}` +
    `,"origin":${JSON.stringify(r.origin)},"seq":${r.seq},"session":${JSON.stringify(r.session)}` +
    `,"sessionPrev":${r.sessionPrev === null ? 'null' : JSON.stringify(r.sessionPrev)},"sessionSeq":${r.sessionSeq},"ts":${r.ts},"v":${r.v}}`;
  return Buffer.from(s, 'utf8');
}

/** Parses stored record bytes; throws a descriptive Error when the shape is wrong. */
export function decodeRecord(bytes: Uint8Array): AuditRecord {
  const r = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as AuditRecord;
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

/** Identity strings a record names (meta.identity subject and email), for --user filtering. */
export function recordUsers(meta: JsonObject): string[] {
  const id = meta.identity as JsonValue | undefined;
  if (!id || typeof id !== 'object' || Array.isArray(id)) return [];
  const out: string[] = [];
  if (typeof id.subject === 'string' && id.subject) out.push(id.subject);
  if (typeof id.email === 'string' && id.email) out.push(id.email);
  return out;
}
