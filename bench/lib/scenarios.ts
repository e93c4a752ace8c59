// The proxy bench scenarios s1–s5. Each runs every target (direct, wiretrail, mitmproxy) in interleaved
// rounds, so load from elsewhere on the machine hits all of them alike rather than whichever ran last.
import type { Dispatcher } from 'undici';
import { chatBody, jsonRequest, streamRequest, type Target } from './client.js';
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

// ---- s4: 64 concurrent streams ----
export interface S4Result {
  chunksPerSec: number;
  latency: Quantiles;
  /** Peak RSS of the proxy during this scenario (VmHWM reset before it), bytes. */
  peakRss: number | null;
  peakRssReset: boolean;
  proxyCpuMsPerChunk: number | null;
}

export async function s4ConcurrentStreams(targets: Target[], o: { streams: number; chunks: number; intervalMs: number; rounds: number }): Promise<Map<string, S4Result>> {
  const out = new Map<string, S4Result>();
  const lat = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const acc = new Map(targets.map((t) => [t.name, { chunks: 0, secs: 0, cpu: 0 as number | null, reset: true }]));
  // The peak is measured from here: earlier scenarios (s2's 32 connections) do not count.
  for (const t of targets) if (t.pid !== undefined) acc.get(t.name)!.reset = resetPeakRss(t.pid);
  for (let r = 0; r < o.rounds; r++) {
    for (const t of targets) {
      const d = t.dispatcher(o.streams);
      const a = acc.get(t.name)!;
      try {
        const cpu0 = cpuNow(t);
        const t0 = performance.now();
        // Independent clients are not phase-locked: stream starts are spread evenly over one interval, so
        // chunks do not reach the proxy in bursts of 64 that only a simultaneous start would create.
        const results = await Promise.all(
          Array.from({ length: o.streams }, (_, k) => sleep((k * o.intervalMs) / o.streams).then(() => streamRequest(d, o.chunks, o.intervalMs))),
        );
        a.secs += (performance.now() - t0) / 1000;
        for (const res of results) {
          a.chunks += res.chunks;
          lat.get(t.name)!.push(...res.latencies);
        }
        const c = cpuDelta(t, cpu0);
        a.cpu = c === null || a.cpu === null ? null : a.cpu + c;
      } finally {
        await closeDispatcher(d);
      }
    }
  }
  for (const t of targets) {
    const a = acc.get(t.name)!;
    out.set(t.name, {
      chunksPerSec: a.chunks / a.secs,
      latency: quantiles(lat.get(t.name)!),
      peakRss: t.pid === undefined ? null : peakRss(t.pid),
      peakRssReset: a.reset,
      proxyCpuMsPerChunk: a.cpu === null ? null : (a.cpu * 1000) / a.chunks,
    });
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
