// The proxy bench's markdown table: one row per figure, the three targets side by side, and a PASS/MISS
// column for the issue's targets (a benchmark reports; it never fails the build).
import type { LeafBench } from '../leaf.js';
import type { S1Result, S2Result, S3Result, S4Result, S5Result } from './scenarios.js';
import { mb, ms, num } from './stats.js';

export interface BenchResults {
  targets: string[];
  s1?: Map<string, S1Result>;
  s2?: Map<string, S2Result>;
  s3?: Map<string, S3Result>;
  s4?: Map<string, S4Result>;
  /** s4 again with the mock pacing chunks 1 ms apart: what each path can deliver at most. */
  s4max?: Map<string, S4Result>;
  s5?: Map<string, S5Result>;
  s6?: LeafBench;
  params: {
    s1Requests: number;
    s2Concurrency: number;
    s2Seconds: number;
    s3Streams: number;
    s3Chunks: number;
    s3IntervalMs: number;
    s4Streams: number;
    s4Chunks: number;
    s4IntervalMs: number;
    s4PerWorker: number;
    s4MaxIntervalMs: number;
    s5Requests: number;
    s6Hosts: number;
  };
}

type Verdict = 'PASS' | 'MISS' | '–';
interface Row {
  scenario: string;
  figure: string;
  cells: Record<string, string>;
  target: string;
  verdict: Verdict | string;
}

const verdict = (ok: boolean | null, detail = ''): string => (ok === null ? '–' : `${ok ? 'PASS' : 'MISS'}${detail ? ` (${detail})` : ''}`);

export function buildRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  const per = <T>(m: Map<string, T> | undefined, f: (x: T, name: string) => string): Record<string, string> =>
    Object.fromEntries(r.targets.map((t) => [t, m?.has(t) ? f(m.get(t)!, t) : '–']));
  const WT = 'wiretrail';
  const MITM = 'mitmproxy';
  const p = r.params;

  if (r.s1) {
    rows.push({ scenario: `s1 sequential JSON (${num(p.s1Requests)} req, 1 keep-alive conn)`, figure: 'latency p50 / p99', cells: per(r.s1, (x) => `${ms(x.latency.p50)} / ${ms(x.latency.p99)}`), target: '–', verdict: '–' });
  }
  if (r.s2) {
    const wt = r.s2.get(WT)?.rps;
    const mi = r.s2.get(MITM)?.rps;
    const ratio = wt !== undefined && mi !== undefined ? wt / mi : null;
    rows.push({
      scenario: `s2 concurrency ${p.s2Concurrency}, keep-alive (${p.s2Seconds} s each)`,
      figure: 'requests/s',
      cells: per(r.s2, (x) => `${num(x.rps)}${x.errors ? ` (${x.errors} errors)` : ''}`),
      target: 'wiretrail ≥ 5× mitmproxy',
      verdict: ratio === null ? '– (no mitmproxy)' : verdict(ratio >= 5, `${ratio.toFixed(1)}×`),
    });
    rows.push({ scenario: '', figure: 'proxy CPU per request', cells: per(r.s2, (x) => (x.proxyCpuMsPerRequest === null ? '–' : ms(x.proxyCpuMsPerRequest))), target: '–', verdict: '–' });
  }
  if (r.s3) {
    const d = r.s3.get('direct')?.latency;
    rows.push({ scenario: `s3 one ${p.s3Chunks}-chunk SSE stream (${p.s3IntervalMs} ms apart, ${p.s3Streams} streams)`, figure: 'chunk latency p50 / p99', cells: per(r.s3, (x) => `${ms(x.latency.p50)} / ${ms(x.latency.p99)}`), target: '–', verdict: '–' });
    const added = (name: string) => {
      const x = r.s3!.get(name)?.latency;
      return x && d ? { p50: x.p50 - d.p50, p99: x.p99 - d.p99 } : null;
    };
    const wa = added(WT);
    rows.push({
      scenario: '',
      figure: 'added vs direct p50 / p99',
      cells: per(r.s3, (_x, name) => {
        if (name === 'direct') return '–';
        const a = added(name);
        return a ? `${ms(a.p50)} / ${ms(a.p99)}` : '–';
      }),
      target: 'p99 added ≤ 1 ms',
      verdict: wa ? verdict(wa.p99 <= 1) : '–',
    });
  }
  if (r.s4) {
    const w = r.s4.get(WT);
    rows.push({ scenario: `s4 ${p.s4Streams} concurrent streams of ${p.s4Chunks} chunks ${p.s4IntervalMs} ms apart (steady state, ${p.s4PerWorker} streams per worker)`, figure: 'chunks/s', cells: per(r.s4, (x) => num(x.chunksPerSec)), target: `– (offered ${num((p.s4Streams * 1000) / p.s4IntervalMs)})`, verdict: '–' });
    rows.push({ scenario: '', figure: 'chunk latency p50 / p99', cells: per(r.s4, (x) => `${ms(x.latency.p50)} / ${ms(x.latency.p99)}`), target: 'p99 ≤ 10 ms', verdict: w ? verdict(w.latency.p99 <= 10) : '–' });
    rows.push({
      scenario: '',
      figure: 'proxy peak RSS',
      cells: per(r.s4, (x) => (x.peakRss === null ? '–' : `${mb(x.peakRss)}${x.peakRssReset ? '' : ' (since start)'}`)),
      target: '≤ 150 MB',
      verdict: w && w.peakRss !== null ? verdict(w.peakRss <= 150 * 1024 * 1024) : '–',
    });
    rows.push({ scenario: '', figure: 'proxy CPU per chunk', cells: per(r.s4, (x) => (x.proxyCpuMsPerChunk === null ? '–' : ms(x.proxyCpuMsPerChunk))), target: '–', verdict: '–' });
  }
  if (r.s4max) {
    rows.push({ scenario: `s4 saturated: ${p.s4Streams} streams, chunks ${p.s4MaxIntervalMs} ms apart`, figure: 'chunks/s delivered', cells: per(r.s4max, (x) => num(x.chunksPerSec)), target: `– (offered ${num((p.s4Streams * 1000) / p.s4MaxIntervalMs)})`, verdict: '–' });
    rows.push({ scenario: '', figure: 'proxy peak RSS', cells: per(r.s4max, (x) => (x.peakRss === null ? '–' : mb(x.peakRss))), target: '–', verdict: '–' });
  }
  if (r.s5) {
    const d = r.s5.get('direct')?.latency;
    const w = r.s5.get(WT)?.latency;
    rows.push({
      scenario: `s5 new connection per request (${num(p.s5Requests)} req; proxied: CONNECT + TLS)`,
      figure: 'latency p50 / p99',
      cells: per(r.s5, (x) => `${ms(x.latency.p50)} / ${ms(x.latency.p99)}`),
      target: 'p50 ≤ 2× direct',
      verdict: d && w ? verdict(w.p50 <= 2 * d.p50, `${(w.p50 / d.p50).toFixed(2)}×`) : '–',
    });
    rows.push({
      scenario: '',
      figure: 'ratio to direct p50 / p99',
      cells: per(r.s5, (x, name) => (name === 'direct' || !d ? '–' : `${(x.latency.p50 / d.p50).toFixed(2)}× / ${(x.latency.p99 / d.p99).toFixed(2)}×`)),
      target: '–',
      verdict: '–',
    });
  }
  if (r.s6) {
    const c = r.s6.context;
    const cells: Record<string, string> = Object.fromEntries(r.targets.map((t) => [t, '–']));
    cells[WT] = `${ms(c.mean * c.n)} total; p50 ${ms(c.p50)}, p99 ${ms(c.p99)}, max ${ms(c.max)} per host; ${ms(r.s6.contextCpu)} CPU per host`;
    rows.push({ scenario: `s6 leaf issuance, ${num(p.s6Hosts)} new hosts (in-process, bench/leaf.ts)`, figure: 'certificate + TLS context', cells, target: '– (issue: a new leaf blocks the loop ≤ a few ms)', verdict: `– (loop delay max ${ms(r.s6.loopDelayMax)})` });
  }
  return rows;
}

export function markdownTable(r: BenchResults): string {
  const rows = buildRows(r);
  const head = ['scenario', 'figure', ...r.targets, 'target', 'result'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${[row.scenario, row.figure, ...r.targets.map((t) => row.cells[t] ?? '–'), row.target, row.verdict].join(' | ')} |`);
  return lines.join('\n');
}
