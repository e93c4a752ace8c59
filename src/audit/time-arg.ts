// --since / --until values: ISO 8601 (2024-05-01, 2024-05-01T12:00:00Z), unix milliseconds, or an
// age such as 30m, 12h, 7d (that long before `now`).
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseTimeArg(value: string, flag: string, now = Date.now()): number {
  const v = value.trim();
  const age = /^(\d{1,9})([smhdw])$/.exec(v);
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  if (/^\d{1,16}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new Error(`${flag}: expected an ISO date/time, unix milliseconds or an age like 12h or 7d, got "${value}"`);
}
