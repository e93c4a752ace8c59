// One masking lane: the client side or the record side of a response. It owns one StreamMasker
// per channel (choice, tool call, content block, output item…) and masks whole values
// (ids excepted) with the session's maskText.
import type { Finding, MaskSession, StreamMasker } from '../mask/index.js';

/** Below this length a lone value cannot hold a credential worth a rule; skipping keeps chunks cheap. */
const MIN_TEXT = 8;
const CACHE_MAX_ENTRIES = 4096;
const CACHE_MAX_LEN = 512;

/**
 * Keys whose values are identifiers, enums or opaque provider blobs. Masking them would break
 * the client (a changed signature, id or encrypted reasoning is rejected on the next turn).
 */
const OPAQUE_KEYS = new Set([
  'id',
  'item_id',
  'call_id',
  'tool_call_id',
  'tool_use_id',
  'response_id',
  'previous_response_id',
  'responseId',
  'cot_id',
  'signature',
  'thoughtSignature',
  'thought_signature',
  'encrypted_content',
  'reasoning_opaque',
  'obfuscation',
  'system_fingerprint',
  'object',
  'type',
  'role',
  'model',
  'modelVersion',
  'finish_reason',
  'finishReason',
  'stop_reason',
  'done_reason',
  'status',
  'created_at',
  'service_tier',
]);

/** Keys whose whole subtree is binary data (Ollama's base64 images). */
const OPAQUE_SUBTREES = new Set(['images']);

const BASE64_DATA_URL = /^data:[^,]{0,100};base64,/;

function isOpaque(parent: Record<string, unknown>, key: string, value: string): boolean {
  if (OPAQUE_KEYS.has(key)) return true;
  if (key === 'data') {
    // redacted thinking, base64 images/audio/documents
    const t = parent['type'];
    if (t === 'redacted_thinking' || t === 'base64') return true;
    if ('mime_type' in parent || 'mimeType' in parent || 'media_type' in parent || 'format' in parent) return true;
  }
  if (key === 'b64_json') return true;
  return value.length > 256 && BASE64_DATA_URL.test(value);
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

  constructor(readonly session: MaskSession) {}

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
    if (s.length < MIN_TEXT) return s;
    const hit = this.cache.get(s);
    if (hit) {
      if (hit.findings.length) this.textFindings.push(...hit.findings);
      return hit.text;
    }
    const r = this.session.maskText(s);
    if (r.findings.length) this.textFindings.push(...r.findings);
    if (s.length <= CACHE_MAX_LEN) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(s, { text: r.text, findings: r.findings });
    }
    return r.text;
  }

  /**
   * Masks every string value of a JSON value in place, except identifiers and opaque blobs and
   * the fields in `handled`. Returns true when something changed.
   */
  walk(value: Json, handled?: Handled): boolean {
    if (value === null || typeof value !== 'object') return false;
    let changed = false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i]!;
        if (typeof v === 'string') {
          if (v.length < MIN_TEXT) continue;
          const m = this.text(v);
          if (m !== v) {
            value[i] = m;
            changed = true;
          }
        } else if (v !== null && typeof v === 'object') {
          if (this.walk(v, handled)) changed = true;
        }
      }
      return changed;
    }
    for (const key of Object.keys(value)) {
      const v = value[key]!;
      if (typeof v === 'string') {
        if (v.length < MIN_TEXT || handled?.has(value, key) || isOpaque(value, key, v)) continue;
        const m = this.text(v);
        if (m !== v) {
          value[key] = m;
          changed = true;
        }
      } else if (v !== null && typeof v === 'object') {
        if (handled?.has(value, key) || OPAQUE_SUBTREES.has(key)) continue;
        if (this.walk(v, handled)) changed = true;
      }
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
