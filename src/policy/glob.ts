// Glob matching for model names, claim values and paths: `*` matches any run of characters, nothing
// else is special. Linear-time two-pointer matcher (no regex built from user text, so no ReDoS).

/** Whether `text` matches `pattern`; both compared as given (callers lower-case when they mean to). */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether any pattern of the list matches. */
export function anyGlob(patterns: readonly string[], text: string): string | null {
  for (const p of patterns) if (globMatch(p, text)) return p;
  return null;
}
