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
  partial: { word: Set<string>; segment: Set<string>; none: Set<string> };
  maxLit: number;
}

const lowerCode = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export function compileCatalog(rules: Rule[] = builtinRules()): Catalog {
  const byFirst = new Map<number, TriggerEntry[]>();
  const lits = new Set<string>();
  const partial = { word: new Set<string>(), segment: new Set<string>(), none: new Set<string>() };
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
      // custom boundaries are checked when the trigger is complete; hold their prefixes anywhere
      const kind = t.boundary === 'word' ? 'word' : t.boundary === 'segment' ? 'segment' : 'none';
      for (let l = 1; l < lit.length; l++) partial[kind].add(lit.slice(0, l).toLowerCase());
    }
  });
  // longest first so the regex prefers them; correctness does not depend on it
  const alts = [...lits].sort((a, b) => b.length - a.length).map(escapeRe);
  const search = new RegExp(alts.join('|'), 'gi');
  return { rules, search, byFirst, partial, maxLit };
}

/**
 * Verdict at position c: the first rule (in catalog order) whose trigger starts at c and whose
 * verdict is not 'no'. A trigger cut off by the end of the text makes the verdict 'more'.
 */
export function verdictAt(cat: Catalog, view: ScanView, c: number, withKeywords: boolean): Verdict {
  const { text, final } = view;
  const list = cat.byFirst.get(lowerCode(text.charCodeAt(c)));
  if (!list) return NO;
  let cut = false;
  const hits: number[] = [];
  for (const e of list) {
    if (!withKeywords && cat.rules[e.rule]!.family === 'keyword') continue;
    if (c + e.lit.length > text.length) {
      if (!final && partialMatches(text, c, e) && boundaryOk(e.boundary, text, c)) cut = true;
      continue;
    }
    if (startsAt(text, c, e.lit, e.ci) && boundaryOk(e.boundary, text, c) && !hits.includes(e.rule)) hits.push(e.rule);
  }
  if (cut) return MORE;
  hits.sort((a, b) => a - b);
  for (const r of hits) {
    const v = cat.rules[r]!.match(view, c);
    if (v.t !== 'no') return v;
  }
  return NO;
}

function partialMatches(text: string, c: number, e: TriggerEntry): boolean {
  const tail = text.slice(c);
  return e.ci ? e.lit.startsWith(tail.toLowerCase()) : e.lit.startsWith(tail);
}
