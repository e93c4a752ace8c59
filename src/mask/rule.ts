// Internal rule model shared by the catalog and the scanner.
//
// The scanner walks the text left to right. At a position where a rule's trigger literal starts,
// it asks the rule for a verdict. A verdict may only depend on the text, never on where the
// chunks were split: when a rule needs characters beyond the end of what it has, it answers
// 'more' (unless the stream is final) and the scanner holds the text back from that position.
// This is what makes streamed output identical to masking the whole text at once.
import type { CharTest } from './chars.js';

/** Where a trigger may start: after a non-alphanumeric ('word'), also at a camelCase step ('segment'). */
export type Boundary = 'word' | 'segment' | 'none' | ((text: string, c: number) => boolean);

export interface TriggerSpec {
  lit: string;
  /** Case-insensitive literal. */
  ci?: boolean;
  boundary: Boundary;
}

/** What to drop after an early commit: the rest of the token as it arrives. */
export type Swallow =
  | { kind: 'class'; test: CharTest; left: number }
  | { kind: 'pem'; left: number; state: 'mid' | 'term' | 'start' };

export type Verdict =
  | { t: 'no' }
  /** Needs characters that have not arrived; hold from `from` (default: the trigger). */
  | { t: 'more'; from?: number }
  | {
      t: 'hit';
      rule: string;
      /** Secret span [start, end) in view.text; text between the trigger and start stays visible. */
      start: number;
      end: number;
      /** Identity for numbering: the secret, or its committed head when `swallow` is set. */
      key: string;
      swallow?: Swallow;
    };

export const NO: Verdict = { t: 'no' };
export const MORE: Verdict = { t: 'more' };

export interface ScanView {
  /** Released context (up to CONTEXT chars) followed by the unreleased text. */
  readonly text: string;
  /** No more text will follow. */
  readonly final: boolean;
  /** First position not yet released: a hit may start before its trigger, but not before this. */
  readonly from: number;
  /** Verdict of the non-keyword rules at position v (keyword rules defer to a specific match). */
  prefixAt(v: number): Verdict;
  /**
   * Secrets the whole catalog finds in a decoded text (base64, \\u escapes, …), as rule and start
   * offset; used by the decoder rules. Empty beyond the nesting limit.
   */
  probe(decoded: string): { rule: string; start: number }[];
}

export interface Rule {
  name: string;
  description: string;
  /** 'keyword' rules are not consulted by prefixAt(). */
  family: 'prefix' | 'keyword';
  triggers: TriggerSpec[];
  match(view: ScanView, c: number): Verdict;
  /**
   * For rules whose secret starts before the trigger (an infix marker such as Azure's `Q~`): the
   * position from which the tail of `text` must be held because it may still become such a
   * secret's start, or text.length.
   */
  holdTail?(text: string): number;
}

/** A catalog entry for docs; several entries can share one matcher (the keyword family). */
export interface CatalogEntry {
  name: string;
  description: string;
}

/** Longest lookbehind any rule may use. The scanner keeps this much released text as context. */
export const CONTEXT = 96;
/** Upper bound on characters swallowed after one early commit. */
export const MAX_SWALLOW = 65536;

/** Whether `lit` starts at text[c]; a case-insensitive `lit` is given in lower case. */
export function startsAt(text: string, c: number, lit: string, ci: boolean): boolean {
  if (c + lit.length > text.length) return false;
  if (!ci) return text.startsWith(lit, c);
  for (let k = 0; k < lit.length; k++) {
    let x = text.charCodeAt(c + k);
    if (x >= 65 && x <= 90) x += 32;
    if (x !== lit.charCodeAt(k)) return false;
  }
  return true;
}
