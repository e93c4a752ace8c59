// One masking lane: the client side or the record side of a response (or the request body). It
// owns one StreamMasker per channel (choice, tool call, content block, output item…) and masks
// whole values and object keys with the session's maskText. Values at the provider's opaque paths
// (ids, signatures, encrypted reasoning, base64 media: opaque.ts) are masked only for strong
// credential rules, so a changed signature cannot break the client while a key hidden there is
// still caught.
import { isStrongRule, type Finding, type MaskSession, type StreamMasker } from '../mask/index.js';
import { MAX_JSON_DEPTH } from './json-text.js';
import { childOf, isOpaqueIn, NO_OPAQUE, type OpaqueNode } from './opaque.js';

/** Below this length a lone value cannot hold a credential worth a rule; skipping keeps chunks cheap. */
const MIN_TEXT = 8;
const CACHE_MAX_ENTRIES = 4096;
const CACHE_MAX_LEN = 512;

/**
 * A schema field name (snake_case or camelCase letters only): no built-in rule can match one
 * without context (every credential format needs digits, case mixing or symbols), so the keys of
 * every API object skip the masker. Anything else in a key position is masked like a value.
 */
const FIELD_NAME = /^[a-z]+(?:_[a-z]+)*$|^[a-z]+(?:[A-Z][a-z]+)*$/;

/** Thrown by walk() for JSON nested deeper than MAX_JSON_DEPTH (json-text.ts refuses such text first). */
export class JsonTooDeepError extends Error {
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/** Fields an adapter already masked through a channel: the generic walk must not mask them twice. */
export class Handled {
  private readonly map = new WeakMap<object, Set<string>>();
  add(obj: object, key: string): void {
    let s = this.map.get(obj);
    if (!s) this.map.set(obj, (s = new Set()));
    s.add(key);
  }
  has(obj: object, key: string): boolean {
    return this.map.get(obj)?.has(key) ?? false;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObj = { [k: string]: Json };
export type { Json };

export class Lane {
  private readonly active = new Map<string, StreamMasker>();
  private readonly retired: StreamMasker[] = [];
  private readonly textFindings: Finding[] = [];
  private readonly cache = new Map<string, { text: string; findings: Finding[] }>();
  private readonly strongCache = new Map<string, { text: string; findings: Finding[] }>();
  private schema: OpaqueNode = NO_OPAQUE;

  constructor(readonly session: MaskSession) {}

  /** The opaque paths of the format this lane masks (set once the format is known). */
  useSchema(schema: OpaqueNode): void {
    this.schema = schema;
  }

  /** Pushes decoded text into a channel; returns what is safe to release now (masked). */
  push(key: string, text: string): string {
    let m = this.active.get(key);
    if (!m) {
      m = this.session.stream();
      this.active.set(key, m);
    }
    return m.push(text);
  }

  has(key: string): boolean {
    return this.active.has(key);
  }

  /** Ends a channel (an end signal was seen): returns the held text, masked. */
  flush(key: string): string {
    const m = this.active.get(key);
    if (!m) return '';
    this.active.delete(key);
    this.retired.push(m);
    return m.flush();
  }

  /** Active channel keys, oldest first. */
  keys(prefix = ''): string[] {
    const out: string[] = [];
    for (const k of this.active.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  /** Characters currently held across all channels. */
  get held(): number {
    let n = 0;
    for (const m of this.active.values()) n += m.held;
    return n;
  }

  /** Masks one whole value. */
  text(s: string): string {
    return this.cached(this.cache, s, false);
  }

  /** Masks an opaque value only where a strong credential rule matches it. */
  strong(s: string): string {
    return this.cached(this.strongCache, s, true);
  }

  private cached(cache: Map<string, { text: string; findings: Finding[] }>, s: string, strongOnly: boolean): string {
    if (s.length < MIN_TEXT) return s;
    let hit = cache.get(s);
    if (!hit) {
      const r = this.session.maskText(s);
      hit = strongOnly && !r.findings.some((f) => isStrongRule(f.rule)) ? { text: s, findings: [] } : r;
      if (s.length <= CACHE_MAX_LEN) {
        if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
        cache.set(s, hit);
      }
    }
    if (hit.findings.length) this.textFindings.push(...hit.findings);
    return hit.text;
  }

  /**
   * Masks every string value and every object key of a JSON value in place (values at the
   * schema's opaque paths only for strong rules), except the fields in `handled`. `value` is the
   * root of a message or body. Returns true when something changed.
   */
  walk(value: Json, handled?: Handled): boolean {
    return this.walkNode(value, handled, this.schema, 0);
  }

  private leaf(v: string, opaque: boolean): string {
    return opaque ? this.strong(v) : this.text(v);
  }

  private walkNode(value: Json, handled: Handled | undefined, node: OpaqueNode | null, depth: number): boolean {
    if (value === null || typeof value !== 'object') return false;
    if (depth >= MAX_JSON_DEPTH) throw new JsonTooDeepError();
    return Array.isArray(value) ? this.walkArray(value, handled, node, depth) : this.walkObject(value, handled, node, depth);
  }

  private walkArray(value: Json[], handled: Handled | undefined, node: OpaqueNode | null, depth: number): boolean {
    const child = childOf(node, '*');
    const opaque = isOpaqueIn(child, value);
    let changed = false;
    for (let i = 0; i < value.length; i++) {
      const v = value[i]!;
      if (typeof v === 'string') {
        const m = this.leaf(v, opaque);
        if (m !== v) {
          value[i] = m;
          changed = true;
        }
      } else if (v !== null && typeof v === 'object') {
        if (this.walkNode(v, handled, child, depth + 1)) changed = true;
      }
    }
    return changed;
  }

  private walkObject(value: JsonObj, handled: Handled | undefined, node: OpaqueNode | null, depth: number): boolean {
    let changed = false;
    let renames: Map<string, string> | null = null;
    for (const key of Object.keys(value)) {
      const v = value[key]!;
      if (!handled?.has(value, key)) {
        const child = childOf(node, key);
        if (typeof v === 'string') {
          const m = this.leaf(v, isOpaqueIn(child, value));
          if (m !== v) {
            value[key] = m;
            changed = true;
          }
        } else if (v !== null && typeof v === 'object') {
          if (this.walkNode(v, handled, child, depth + 1)) changed = true;
        }
      }
      // keys are text too: `{"metadata":{"sk-proj-…":"v"}}` reaches the model like any value
      if (!FIELD_NAME.test(key)) {
        const k = this.text(key);
        if (k !== key) (renames ??= new Map()).set(key, k);
      }
    }
    if (renames) {
      renameKeys(value, renames);
      changed = true;
    }
    return changed;
  }

  get findings(): Finding[] {
    const out = [...this.textFindings];
    for (const m of this.retired) out.push(...m.findings);
    for (const m of this.active.values()) out.push(...m.findings);
    return out;
  }
}

/**
 * Renames keys in place, keeping their order (and the object's identity, which Handled relies on).
 * defineProperty, not assignment: a `__proto__` key from JSON.parse is an own property and must
 * stay one. Two keys masked to the same text keep the last value, as JSON.parse would.
 */
function renameKeys(obj: JsonObj, renames: Map<string, string>): void {
  const entries = Object.keys(obj).map((k) => [renames.get(k) ?? k, obj[k]!] as const);
  for (const k of Object.keys(obj)) delete obj[k];
  for (const [k, v] of entries) Object.defineProperty(obj, k, { value: v, writable: true, enumerable: true, configurable: true });
}
