// The compiled catalog: every rule, its triggers indexed by first character, one search regex.
import { boundaryOk } from './boundary.js';
import { builtinRules } from './rules/index.js';
import { MORE, NO, startsAt, type Boundary, type Rule, type ScanView, type Verdict } from './rule.js';

interface TriggerEntry {
  lit: string;
  ci: boolean;
  boundary: Boundary;
  rule: number;
}

export interface Catalog {
  rules: Rule[];
  /** Finds the next position ≥ from where any trigger literal starts (case-insensitively). */
  search: RegExp;
  byFirst: Map<number, TriggerEntry[]>;
  /** Lower-cased proper prefixes of the triggers, by boundary kind, for holding a cut-off tail. */
  /** Lower-cased trigger literals as tries, for holding a cut-off tail: triggers that need a
   *  word or segment start, and the others (checked at every position). */
  trie: TrieNode;
  trieAnywhere: TrieNode;
  maxLit: number;
  /** Rules that hold a text's tail themselves (infix markers). */
  tailRules: Rule[];
}

const lowerCode = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export function compileCatalog(rules: Rule[] = builtinRules()): Catalog {
  const byFirst = new Map<number, TriggerEntry[]>();
  const lits = new Set<string>();
  let maxLit = 0;
  rules.forEach((rule, idx) => {
    for (const t of rule.triggers) {
      const lit = t.ci ? t.lit.toLowerCase() : t.lit;
      const e: TriggerEntry = { lit, ci: t.ci ?? false, boundary: t.boundary, rule: idx };
      const k = lowerCode(lit.charCodeAt(0));
      const list = byFirst.get(k) ?? [];
      list.push(e);
      byFirst.set(k, list);
      lits.add(lit.toLowerCase());
      maxLit = Math.max(maxLit, lit.length);
    }
  });
  // longest first so the regex prefers them; correctness does not depend on it
  const alts = [...lits].sort((a, b) => b.length - a.length).map(escapeRe);
  const search = new RegExp(alts.join('|'), 'gi');
  const tailRules = rules.filter((r) => r.holdTail);
  const cat: Catalog = { rules, search, byFirst, trie: { next: [], cont: 0 }, trieAnywhere: { next: [], cont: 0 }, maxLit, tailRules };
  // custom boundaries count as 'none' here: their prefixes are held anywhere
  cat.trie = buildTrie(cat, (b) => b === 'word' || b === 'segment');
  cat.trieAnywhere = buildTrie(cat, (b) => b !== 'word' && b !== 'segment');
  return cat;
}

/**
 * Verdict at position c: the first rule (in catalog order) whose trigger starts at c and whose
 * verdict is not 'no'. A trigger cut off by the end of the text makes the verdict 'more'.
 */
export function verdictAt(cat: Catalog, view: ScanView, c: number, withKeywords: boolean): Verdict {
  const { text, final } = view;
  const list = cat.byFirst.get(lowerCode(text.charCodeAt(c)));
  if (!list) return NO;
  let tried = -1;
  // entries are in rule order, a rule's triggers next to each other
  for (const e of list) {
    if (e.rule === tried) continue;
    const rule = cat.rules[e.rule]!;
    if (!withKeywords && rule.family === 'keyword') continue;
    if (c + e.lit.length > text.length) {
      if (!final && partialMatches(text, c, e) && boundaryOk(e.boundary, text, c)) return MORE;
      continue;
    }
    if (!startsAt(text, c, e.lit, e.ci) || !boundaryOk(e.boundary, text, c)) continue;
    tried = e.rule;
    const v = rule.match(view, c);
    if (v.t !== 'no') return v;
  }
  return NO;
}

function partialMatches(text: string, c: number, e: TriggerEntry): boolean {
  const tail = text.slice(c);
  return e.ci ? e.lit.startsWith(tail.toLowerCase()) : e.lit.startsWith(tail);
}

/** Trie of lower-cased trigger literals, to find a cut-off trigger at the end of a text. */
export interface TrieNode {
  /** Children by lower-cased ASCII code (triggers are ASCII). */
  next: (TrieNode | undefined)[];
  /** Boundary kinds (1 word, 2 segment, 4 none) of triggers that continue past this node. */
  cont: number;
}

export function buildTrie(cat: Catalog, take: (b: Boundary) => boolean): TrieNode {
  const root: TrieNode = { next: new Array(128), cont: 0 };
  for (const list of cat.byFirst.values()) {
    for (const e of list) {
      if (!take(e.boundary)) continue;
      const kind = e.boundary === 'word' ? 1 : e.boundary === 'segment' ? 2 : 4;
      let node = root;
      const lit = e.lit.toLowerCase();
      for (let i = 0; i < lit.length; i++) {
        if (i > 0) node.cont |= kind;
        const k = lit.charCodeAt(i);
        let nx = node.next[k];
        if (!nx) node.next[k] = nx = { next: new Array(128), cont: 0 };
        node = nx;
      }
    }
  }
  return root;
}
