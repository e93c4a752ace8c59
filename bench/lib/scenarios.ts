// The proxy bench scenarios s1–s5. Each runs every target (direct, wiretrail, mitmproxy) in interleaved
// rounds, so load from elsewhere on the machine hits all of them alike rather than whichever ran last.
import type { Dispatcher } from 'undici';
import { chatBody, jsonRequest, streamRequest, type StreamResult, type Target } from './client.js';
import { cpuSeconds, peakRss, resetPeakRss } from './proc.js';
import { quantiles, type Quantiles } from './stats.js';

const JSON_BODY = chatBody({});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function closeDispatcher(d: Dispatcher): Promise<void> {
  await d.close().catch(() => undefined);
}

function cpuDelta(t: Target, before: number | null): number | null {
  if (t.pid === undefined || before === null) return null;
  const after = cpuSeconds(t.pid);
  return after === null ? null : after - before;
}

const cpuNow = (t: Target) => (t.pid === undefined ? null : cpuSeconds(t.pid));

// ---- s1: sequential JSON requests on one keep-alive connection ----
export interface S1Result {
  latency: Quantiles;
}

export async function s1Sequential(targets: Target[], o: { requests: number; rounds: number; warmup: number }): Promise<Map<string, S1Result>> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const ds = new Map(targets.map((t) => [t.name, t.dispatcher(1)]));
  try {
    for (const t of targets) for (let i = 0; i < o.warmup; i++) await jsonRequest(ds.get(t.name)!, JSON_BODY);
    const per = Math.ceil(o.requests / o.rounds);
    for (let r = 0; r < o.rounds; r++) {
      for (const t of targets) {
        const d = ds.get(t.name)!;
        const out = samples.get(t.name)!;
        for (let i = 0; i < per; i++) out.push(await jsonRequest(d, JSON_BODY));
      }
    }
  } finally {
    await Promise.all([...ds.values()].map(closeDispatcher));
  }
  return new Map(targets.map((t) => [t.name, { latency: quantiles(samples.get(t.name)!) }]));
}

// ---- s2: requests/s with 32 concurrent keep-alive connections (closed loop) ----
export interface S2Result {
  rps: number;
  requests: number;
  errors: number;
  /** Proxy process CPU time per request (ms): a figure less sensitive to other load on the machine. */
  proxyCpuMsPerRequest: number | null;
}

export async function s2Throughput(targets: Target[], o: { concurrency: number; seconds: number; rounds: number; warmupSeconds: number }): Promise<Map<string, S2Result>> {
  const acc = new Map(targets.map((t) => [t.name, { requests: 0, errors: 0, secs: 0, cpu: 0 as number | null }]));
  const ds = new Map(targets.map((t) => [t.name, t.dispatcher(o.concurrency)]));
  const run = async (d: Dispatcher, seconds: number) => {
    const until = performance.now() + seconds * 1000;
    let requests = 0;
    let errors = 0;
    let firstError: Error | null = null;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (performance.now() < until) {
          try {
            await jsonRequest(d, JSON_BODY);
            requests++;
          } catch (err) {
            errors++;
            firstError ??= err as Error;
            if (errors > 100) throw firstError;
          }
        }
      }),
    );
    return { requests, errors };
  };
  try {
    for (const t of targets) await run(ds.get(t.name)!, o.warmupSeconds);
    for (let r = 0; r < o.rounds; r++) {
      for (const t of targets) {
        const a = acc.get(t.name)!;
        const cpu0 = cpuNow(t);
        const t0 = performance.now();
        const { requests, errors } = await run(ds.get(t.name)!, o.seconds);
        a.secs += (performance.now() - t0) / 1000;
        a.requests += requests;
        a.errors += errors;
        const c = cpuDelta(t, cpu0);
        a.cpu = c === null || a.cpu === null ? null : a.cpu + c;
      }
    }
  } finally {
    await Promise.all([...ds.values()].map(closeDispatcher));
  }
  return new Map(
    targets.map((t) => {
      const a = acc.get(t.name)!;
      return [t.name, { rps: a.requests / a.secs, requests: a.requests, errors: a.errors, proxyCpuMsPerRequest: a.cpu === null ? null : (a.cpu * 1000) / a.requests }];
    }),
  );
}

// ---- s3: per-chunk latency of one 200-chunk SSE stream at a time ----
export interface S3Result {
  latency: Quantiles;
  streams: number;
}

export async function s3StreamLatency(targets: Target[], o: { streams: number; chunks: number; intervalMs: number }): Promise<Map<string, S3Result>> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const ds = new Map(targets.map((t) => [t.name, t.dispatcher(1)]));
  try {
    // Warm-up: one short stream each (connection, leaf, JIT).
    for (const t of targets) await streamRequest(ds.get(t.name)!, 20, 1);
    for (let s = 0; s < o.streams; s++) {
      for (const t of targets) samples.get(t.name)!.push(...(await streamRequest(ds.get(t.name)!, o.chunks, o.intervalMs)).latencies);
    }
  } finally {
    await Promise.all([...ds.values()].map(closeDispatcher));
  }
  return new Map(targets.map((t) => [t.name, { latency: quantiles(samples.get(t.name)!), streams: o.streams }]));
}

// ---- s4: 64 concurrent streams, steady state ----
export interface S4Result {
  chunksPerSec: number;
  latency: Quantiles;
  /** Peak RSS of the proxy during this scenario (VmHWM reset before it), bytes. */
  peakRss: number | null;
  peakRssReset: boolean;
  proxyCpuMsPerChunk: number | null;
}

/**
 * `streams` workers each run `perWorker` streams back to back; worker k starts k/streams of a stream's
 * length after the first, so starts are spread like independent clients' (not a flash crowd of 64 in
 * one instant) and about streams/length new streams begin per second. Figures cover the window in which
 * all workers stream at once: from the last worker's start to the first worker's end.
 */
export async function s4ConcurrentStreams(targets: Target[], o: { streams: number; chunks: number; intervalMs: number; perWorker: number }): Promise<Map<string, S4Result>> {
  const out = new Map<string, S4Result>();
  const streamMs = o.chunks * o.intervalMs;
  for (const t of targets) {
    // The peak is this scenario's own: earlier scenarios (s2's 32 connections) do not count.
    const reset = t.pid !== undefined ? resetPeakRss(t.pid) : true;
    const d = t.dispatcher(o.streams);
    try {
      // Connections first (one short request on each): s4 is about streaming through established
      // connections; a storm of new CONNECT + TLS handshakes is s5's subject.
      await Promise.all(Array.from({ length: o.streams }, () => jsonRequest(d, JSON_BODY)));
      const t0 = process.hrtime.bigint();
      let windowStart = 0n;
      let windowEnd = 0n;
      let cpu0: number | null = null;
      let cpu1: number | null = null;
      const startTimer = setTimeout(() => {
        windowStart = process.hrtime.bigint();
        cpu0 = cpuNow(t);
      }, streamMs);
      const runs = await Promise.all(
        Array.from({ length: o.streams }, async (_, k) => {
          await sleep((k * streamMs) / o.streams);
          const got: StreamResult[] = [];
          for (let i = 0; i < o.perWorker; i++) got.push(await streamRequest(d, o.chunks, o.intervalMs));
          // The first worker to finish ends the window.
          if (windowEnd === 0n) {
            windowEnd = process.hrtime.bigint();
            cpu1 = cpuNow(t);
          }
          return got;
        }),
      );
      clearTimeout(startTimer);
      if (windowStart === 0n || windowEnd <= windowStart) windowStart = t0; // streams slower than their nominal length
      const lat: number[] = [];
      for (const got of runs) {
        for (const r of got) {
          for (let i = 0; i < r.sent.length; i++) {
            const at = r.sent[i]!;
            if (at >= windowStart && at <= windowEnd) lat.push(r.latencies[i]!);
          }
        }
      }
      const secs = Number(windowEnd - windowStart) / 1e9;
      const cpu = cpu0 !== null && cpu1 !== null ? (cpu1 as number) - (cpu0 as number) : null;
      out.set(t.name, {
        chunksPerSec: lat.length / secs,
        latency: quantiles(lat),
        peakRss: t.pid === undefined ? null : peakRss(t.pid),
        peakRssReset: reset,
        proxyCpuMsPerChunk: cpu === null || lat.length === 0 ? null : (cpu * 1000) / lat.length,
      });
    } finally {
      await closeDispatcher(d);
    }
  }
  return out;
}

// ---- s5: a new connection (CONNECT + full TLS handshake) per request ----
export interface S5Result {
  latency: Quantiles;
}

export async function s5FreshConnections(targets: Target[], o: { requests: number; rounds: number; warmup: number }): Promise<Map<string, S5Result>> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  for (const t of targets) for (let i = 0; i < o.warmup; i++) await t.freshRequest(JSON_BODY);
  const per = Math.ceil(o.requests / o.rounds);
  for (let r = 0; r < o.rounds; r++) {
    for (const t of targets) {
      const out = samples.get(t.name)!;
      for (let i = 0; i < per; i++) out.push(await t.freshRequest(JSON_BODY));
    }
  }
  return new Map(targets.map((t) => [t.name, { latency: quantiles(samples.get(t.name)!) }]));
}
