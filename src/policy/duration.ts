// Durations in policy files ("90s", "5m", "1h30m", "2d"): parsed once at load into milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null when `text` is not a positive duration such as 30s, 5m, 1h30m. */
export function parseDurationMs(text: string | number): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text * 1000 : null;
  const s = text.trim().toLowerCase();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total > 0 && Number.isSafeInteger(total) ? total : null;
}

/** Short human form, e.g. 5400000 -> "1h30m". */
export function formatDurationMs(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  if (rest === 0) return `${Math.max(0, ms)}ms`;
  let out = '';
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out;
}
