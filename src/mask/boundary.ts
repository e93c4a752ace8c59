// Trigger boundaries: what the character before a candidate must look like.
import { isAlnum, isDigit, isLower, isUpper } from './chars.js';
import type { Boundary } from './rule.js';

/** Start of a word: nothing alphanumeric before it, or a JSON/shell escape such as `\n`. */
export function wordBoundary(text: string, c: number): boolean {
  if (c === 0) return true;
  const p = text.charCodeAt(c - 1);
  if (!isAlnum(p)) return true;
  // "\n" written as backslash + n inside JSON strings and escaped tool arguments
  return (p === 110 || p === 114 || p === 116) && c >= 2 && text.charCodeAt(c - 2) === 92;
}

/** Start of an identifier segment: a word start or a camelCase step (authToken, dbPassword). */
export function segmentBoundary(text: string, c: number): boolean {
  if (wordBoundary(text, c)) return true;
  const p = text.charCodeAt(c - 1);
  return (isLower(p) || isDigit(p)) && isUpper(text.charCodeAt(c));
}

export function boundaryOk(b: Boundary, text: string, c: number): boolean {
  if (b === 'none') return true;
  if (b === 'word') return wordBoundary(text, c);
  if (b === 'segment') return segmentBoundary(text, c);
  return b(text, c);
}
