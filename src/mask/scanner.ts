// The streaming scanner: one per channel. Text goes in as it arrives; text comes out as soon as no
// rule can still claim it. Held back: from the earliest position whose verdict is 'more' (a
// candidate that needs more characters) or whose tail could still become a trigger literal.
import { segmentBoundary, wordBoundary } from './boundary.js';
import { builtinAllowed, mayBeAllowed } from './allow.js';
import { verdictAt, type Catalog, type TrieNode } from './catalog.js';
import { swallowPem } from './rules/pem.js';
import { CONTEXT, MORE, NO, type ScanView, type Swallow, type Verdict } from './rule.js';

export interface Sink {
  raw(text: string): void;
  /** A secret of `rule` with identity `key` was cut out here (`length` characters before a swallow). */
  secret(rule: string, key: string, length: number): void;
}

/** Decoded text is scanned again at most this deep (base64 of JSON holding \\u escapes …). */
const MAX_DEPTH = 2;
const NOTHING_ALLOWED: AllowList = { has: () => false, hasPrefix: () => false };

export interface AllowList {
  has(value: string): boolean;
  /** Some allowed value starts with this committed head: wait for the whole token. */
  hasPrefix(head: string): boolean;
}

class View implements ScanView {
  text = '';
  final = false;
  from = 0;
  constructor(
    private readonly cat: Catalog,
    private readonly depth: number,
  ) {}
  prefixAt(v: number): Verdict {
    if (v >= this.text.length) return this.final ? NO : MORE;
    return verdictAt(this.cat, this, v, false);
  }
  probe(decoded: string): { rule: string; start: number }[] {
    if (this.depth >= MAX_DEPTH) return [];
    const hits: { rule: string; start: number }[] = [];
    let pos = 0;
    const sink: Sink = { raw: (s) => void (pos += s.length), secret: (rule, _key, len) => void (hits.push({ rule, start: pos }), (pos += len)) };
    new Scanner(this.cat, sink, NOTHING_ALLOWED, this.depth + 1).end(decoded);
    return hits;
  }
}

export class Scanner {
  private ctx = '';
  private buf = '';
  private swallow: Swallow | null = null;
  private readonly view: View;

  constructor(
    private readonly cat: Catalog,
    private readonly sink: Sink,
    private readonly allow: AllowList,
    depth = 0,
  ) {
    this.view = new View(cat, depth);
  }

  get held(): number {
    return this.buf.length;
  }

  push(chunk: string): void {
    if (!chunk) return;
    this.buf += chunk;
    this.run(false);
  }

  flush(): void {
    this.run(true);
    this.swallow = null;
  }

  /** push(chunk) then flush() in one pass. */
  end(chunk: string): void {
    this.buf += chunk;
    this.flush();
  }

  private run(final: boolean): void {
    const text = this.ctx + this.buf;
    const n = text.length;
    const cat = this.cat;
    const view = this.view;
    view.text = text;
    view.final = final;
    let i = this.ctx.length; // next undecided position; everything before is emitted or swallowed
    let raw = i; // start of the pending raw run
    const search = cat.search;
    let hold = -1; // start of a cut-off trigger at the tail; computed once per run
    for (;;) {
      if (this.swallow) {
        const r = this.doSwallow(text, i, final);
        i = raw = r.i;
        if (!r.done) break;
        this.swallow = null;
      }
      if (i >= n) break;
      if (hold < i) hold = final ? n : this.partialStart(text, i);
      search.lastIndex = i;
      const m = search.exec(text);
      const c = m && m.index < hold ? m.index : -1;
      if (c < 0) {
        i = hold;
        break;
      }
      view.from = raw;
      const v = verdictAt(cat, view, c, true);
      // at the end of the stream nothing can wait; a rule that still asks for more has no match
      if (v.t === 'no' || (final && v.t === 'more')) {
        i = c + 1;
        continue;
      }
      if (v.t === 'more') {
        // a secret that starts before its trigger (an infix or suffix marker) is held whole
        i = Math.max(raw, Math.min(c, v.from ?? c));
        break;
      }
      const hit = this.applyAllow(v, view);
      if (hit.t === 'more' && !final) {
        i = c;
        break;
      }
      if (hit.t !== 'hit') {
        i = c + 1;
        continue;
      }
      if (hit.start > raw) this.sink.raw(text.slice(raw, hit.start));
      this.sink.secret(hit.rule, hit.key, hit.end - hit.start);
      i = raw = hit.end;
      this.swallow = hit.swallow ?? null;
    }
    if (i > raw) this.sink.raw(text.slice(raw, i));
    this.ctx = text.slice(Math.max(0, i - CONTEXT), i);
    this.buf = text.slice(i);
  }

  private doSwallow(text: string, i: number, final: boolean): { i: number; done: boolean } {
    const s = this.swallow!;
    if (s.kind === 'pem') {
      const r = swallowPem(s, text, i, final);
      return { i: r.i, done: r.done || final };
    }
    const n = text.length;
    while (i < n && s.left > 0 && s.test(text.charCodeAt(i))) i++, s.left--;
    return { i, done: i < n || s.left <= 0 || final };
  }

  /**
   * Allow-listed values (the built-in layer: documented examples, placeholders, ciphertext,
   * public keys; then the user's list) are not masked; a committed head that may be allowed
   * waits for its whole token.
   */
  private applyAllow(v: Extract<Verdict, { t: 'hit' }>, view: ScanView): Verdict {
    const { text, final } = view;
    const secret = text.slice(v.start, v.end);
    const allowed = (s: string) => builtinAllowed(s) || this.allow.has(s);
    if (!v.swallow) return allowed(secret) ? NO : v;
    if (builtinAllowed(secret)) return NO;
    if ((!this.allow.hasPrefix(secret) && !mayBeAllowed(secret)) || v.swallow.kind !== 'class') return v;
    let j = v.end;
    const test = v.swallow.test;
    while (j < text.length && test(text.charCodeAt(j))) j++;
    if (j === text.length && !final) return MORE;
    if (allowed(text.slice(v.start, j))) return NO;
    return { ...v, end: j, swallow: undefined };
  }

  /**
   * Earliest position ≥ from where the text ends in a proper prefix of a trigger literal (with a
   * fitting boundary). Everything from there on is held until the next chunk decides.
   */
  private partialStart(text: string, from: number): number {
    const n = text.length;
    let tail = n;
    for (const r of this.cat.tailRules) tail = Math.min(tail, r.holdTail!(text));
    tail = Math.max(from, tail);
    for (let s = Math.max(from, n - this.cat.maxLit + 1); s < n; s++) {
      if (s >= tail) break;
      const a = walk(this.cat.trieAnywhere, text, s);
      if (a && a.cont) return s;
      if (!segmentBoundary(text, s)) continue;
      const b = walk(this.cat.trie, text, s);
      if (!b || !b.cont) continue;
      if (b.cont & 2 || (b.cont & 1 && wordBoundary(text, s))) return Math.min(s, tail);
    }
    return tail;
  }
}

/** The trie node reached by text[s..end), or undefined. */
function walk(root: TrieNode, text: string, s: number): TrieNode | undefined {
  let node: TrieNode | undefined = root;
  for (let j = s; j < text.length && node; j++) {
    const c = text.charCodeAt(j);
    node = node.next[c >= 65 && c <= 90 ? c + 32 : c];
  }
  return node;
}
