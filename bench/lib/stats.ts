// Quantiles over latency samples (nearest-rank) and small formatting helpers for the bench tables.

export interface Quantiles {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function quantiles(xs: readonly number[]): Quantiles {
  if (xs.length === 0) return { n: 0, mean: NaN, p50: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  let sum = 0;
  for (const x of xs) sum += x;
  return { n: s.length, mean: sum / s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1]! };
}

/** Milliseconds with a precision that suits their size. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return `${a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3)} ms`;
}

export function num(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–';
}

export function mb(bytes: number | null | undefined): string {
  return bytes == null ? '–' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
