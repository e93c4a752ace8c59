// Durations for token TTLs: "90s", "15m", "2h", "7d", "1h30m" or plain seconds ("3600").

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses a duration into whole seconds; throws an Error naming the bad value. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isInteger(text) || text <= 0) throw new Error(`invalid duration ${text}: expected a positive whole number of seconds`);
    return text;
  }
  const s = text.trim().toLowerCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && Number.isSafeInteger(n)) return n;
  } else if (/^(\d+[smhdw])+$/.test(s)) {
    let total = 0;
    for (const m of s.matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    if (total > 0 && Number.isSafeInteger(total)) return total;
  }
  throw new Error(`invalid duration "${text}": use e.g. 90s, 15m, 2h, 7d or a number of seconds`);
}

/** Short human form of a number of seconds, e.g. 5400 -> "1h30m". */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  let rest = Math.floor(seconds);
  let out = '';
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out;
}
