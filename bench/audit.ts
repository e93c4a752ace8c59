// Audit log benchmark (npx tsx bench/audit.ts [records]): append throughput with 64 concurrent
// sessions, append latency, verify throughput, export, bytes on disk per recorded chunk, and the
// floors under them on this machine (plain LevelDB, SHA-256, JSON.parse) for comparison.
// Every figure comes with CPU time (all threads, and the main thread's share): the machine is
// shared, so records per CPU-second compare across runs better than records per second.
import { mkdtempSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { hash } from 'node:crypto';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Level } from 'level';
import { openAuditLog, verifyStore, readPublicKeys, readExternalCheckpoints, openLocalReader } from '../src/audit/index.js';
import { openDb } from '../src/audit/store.js';

const TOTAL = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 200_000);
const SESSIONS = 64;
const APPEND_TARGET = 50_000;
/** Issue 11: appends into segments, single-threaded, ≥ 200k records/s (ingest reported separately). */
const SEGMENT_TARGET = 200_000;
const VERIFY_TARGET = 200_000;
const quiet = pino({ level: 'silent' });
// A typical streamed SSE chunk as the proxy records it (meta.at + the masked event bytes).
const chunkBody = (s: number, i: number) => Buffer.from(`data: {"id":"chatcmpl-${s}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" token${i}"}}]}\n\n`);

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    n += st.isDirectory() ? dirBytes(p) : st.size;
  }
  return n;
}

/** CPU seconds of the main thread (Linux /proc; 10 ms resolution), null elsewhere. */
function mainThreadCpu(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU use since `start()`: all threads (process.cpuUsage) and the main thread. */
function cpuMeter() {
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpu();
  return (records: number) => {
    const d = process.cpuUsage(c0);
    const all = (d.user + d.system) / 1e6;
    const m1 = mainThreadCpu();
    const main = m0 !== null && m1 !== null ? m1 - m0 : null;
    const split = main === null ? '' : `, main thread ${((main * 1e6) / records).toFixed(1)} + other threads ${(((all - main) * 1e6) / records).toFixed(1)} us/record`;
    return { perCpuSecond: records / all, text: `${Math.round(records / all).toLocaleString('en')} per CPU-second${split}` };
  };
}

const load = () => `load ${loadavg()[0]!.toFixed(1)}`;
const rate = (n: number) => Math.round(n).toLocaleString('en').padStart(7);
const verdict = (v: number, target: number) => (v >= target ? `target ≥ ${target.toLocaleString('en')}/s: ok` : `target ≥ ${target.toLocaleString('en')}/s: MISS`);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function appendRun(label: string, window: number, opts: { syncEveryBatch?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'wiretrail-bench-audit-'));
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, ...opts });
  const per = Math.ceil(TOTAL / SESSIONS);
  const lat: number[] = [];
  let bodyBytes = 0;
  const t0 = performance.now();
  const cpu = cpuMeter();
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const session = `bench-${s}`;
      await log.append({ session, kind: 'connect', meta: { target: 'api.openai.com:443' } });
      if (window === 1) {
        // Each session awaits every append (what a proxy stream does before it forwards a chunk).
        for (let i = 0; i < per; i++) {
          const body = chunkBody(s, i);
          bodyBytes += body.length;
          const start = i % 16 === 0 ? performance.now() : 0;
          await log.append({ session, kind: 'chunk', meta: { at: Date.now() }, body });
          if (start) lat.push(performance.now() - start);
        }
      } else {
        let inflight: Promise<unknown>[] = [];
        for (let i = 0; i < per; i++) {
          const body = chunkBody(s, i);
          bodyBytes += body.length;
          const start = performance.now();
          const p = log.append({ session, kind: 'chunk', meta: { at: Date.now() }, body });
          inflight.push(i % 16 === 0 ? p.then(() => lat.push(performance.now() - start)) : p);
          if (inflight.length >= window) {
            await Promise.all(inflight);
            inflight = [];
          }
        }
        await Promise.all(inflight);
      }
      await log.endSession(session);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const records = log.size;
  const used = cpu(records);
  await log.close();
  const chunks = per * SESSIONS;
  console.log(
    `${label.padEnd(54)} ${rate(records / secs)} records/s (${used.text})` +
      `   append latency p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms   ${load()}`,
  );
  return { root, dataDir, certsDir, records, chunks, bodyBytes, perSecond: records / secs };
}

/**
 * Appending into segments on its own: one caller, no awaits between appends, `perTurn` records per
 * event-loop turn written with one write call (1 = appendSync, one write per record; otherwise
 * perTurn - 1 append() calls and an appendSync() that writes the whole group at once). The writer's
 * rate counts only the time inside those calls (building, hashing, framing, the write); the
 * ingester runs between the turns on the same thread, and its rate is the time until LevelDB holds
 * everything. The lag limit is raised so the run measures the writer, not back-pressure.
 */
async function segmentRun(perTurn: number) {
  const root = mkdtempSync(join(tmpdir(), 'wiretrail-bench-audit-'));
  const log = await openAuditLog({ dataDir: join(root, 'data'), certsDir: join(root, 'certs'), logger: quiet, maxIngestLagBytes: 1 << 30 });
  const per = Math.ceil(TOTAL / SESSIONS);
  for (let s = 0; s < SESSIONS; s++) await log.append({ session: `bench-${s}`, kind: 'connect', meta: { target: 'api.openai.com:443' } });
  await log.drained();
  const bodies = Array.from({ length: SESSIONS }, (_, s) => chunkBody(s, 7));
  const t0 = performance.now();
  const cpu = cpuMeter();
  let n = 0;
  let writing = 0;
  let turnStart = performance.now();
  for (let i = 0; i < per; i++) {
    for (let s = 0; s < SESSIONS; s++) {
      const input = { session: `bench-${s}`, kind: 'chunk' as const, meta: { at: Date.now(), i }, body: bodies[s]! };
      const last = ++n % perTurn === 0;
      if (last) log.appendSync(input); // writes the turn's group
      else void log.append(input);
      if (last && perTurn > 1) {
        writing += performance.now() - turnStart;
        await new Promise((r) => setImmediate(r));
        turnStart = performance.now();
      }
    }
  }
  if (perTurn > 1) {
    writing += performance.now() - turnStart;
    await new Promise((r) => setImmediate(r));
  } else writing = performance.now() - t0;
  const appendSecs = (performance.now() - t0) / 1000;
  const used = cpu(n);
  await log.drained();
  const ingestSecs = (performance.now() - t0) / 1000;
  await log.close();
  rmSync(root, { recursive: true, force: true });
  const label = perTurn === 1 ? 'into segments: appendSync, one write per record' : `into segments: ${perTurn} records per turn (one write)`;
  const writer = n / (writing / 1000);
  console.log(
    `${label.padEnd(54)} ${rate(writer)} records/s in the writer (${rate(n / appendSecs)}/s wall with ingest between turns; ${used.text}); ` +
      `ingest into LevelDB done after ${ingestSecs.toFixed(2)} s = ${rate(n / ingestSecs)} records/s   ${load()}`,
  );
  return writer;
}

async function idleLatency() {
  const root = mkdtempSync(join(tmpdir(), 'wiretrail-bench-audit-'));
  const log = await openAuditLog({ dataDir: join(root, 'data'), certsDir: join(root, 'certs'), logger: quiet });
  const lat: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await log.append({ session: 'one', kind: 'chunk', meta: { at: Date.now() }, body: chunkBody(0, i) });
    lat.push(performance.now() - t);
  }
  await log.close();
  rmSync(root, { recursive: true, force: true });
  console.log(`${'single stream, one append at a time'.padEnd(54)} append latency p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`);
}

/** The work under the figures above, without the audit log around it, on this machine. */
async function floors(dataDir: string, records: number) {
  console.log(`\nfloors on this machine (what the audit log cannot go below):`);
  // 1. Plain LevelDB: the same blocks (64 records each, as the closed loop batches them), one put per batch.
  const blocks: Buffer[] = [];
  const src = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer', createIfMissing: false });
  await src.open();
  let t0 = performance.now();
  let cpu = cpuMeter();
  const it = src.iterator({ gte: 'b/', lt: 'b0' });
  for (;;) {
    const got = (await it.nextv(64)) as [string, Buffer][];
    if (!got.length) break;
    for (const [, v] of got) blocks.push(v);
  }
  await it.close();
  await src.close();
  console.log(`  LevelDB read of the record blocks (nextv, 64 blocks a call)      ${rate(records / ((performance.now() - t0) / 1000))} records/s (${cpu(records).text})   ${load()}`);

  const dir = mkdtempSync(join(tmpdir(), 'wiretrail-bench-floor-'));
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer', writeBufferSize: 16 << 20 });
  await db.open();
  t0 = performance.now();
  cpu = cpuMeter();
  for (let i = 0; i < blocks.length; i++) await db.batch([{ type: 'put', key: `b/${i.toString(16).padStart(16, '0')}`, value: blocks[i]! }]);
  const put = records / ((performance.now() - t0) / 1000);
  console.log(`  LevelDB batch put of the same blocks, one at a time              ${rate(put)} records/s (${cpu(records).text})   ${load()}`);
  await db.close();
  rmSync(dir, { recursive: true, force: true });

  // 2. Per-record CPU floors: SHA-256 calls (body, leaf, one node hash per record on average) and JSON.parse.
  const rec = Buffer.from(
    `{"bodyHash":"${'ab'.repeat(32)}","kind":"chunk","meta":{"at":1763868000123},"origin":"wiretrail.local/host/log","seq":123456,"session":"bench-12","sessionPrev":"${'cd'.repeat(32)}","sessionSeq":1234,"ts":1763868000124,"v":1}`,
  );
  const body = chunkBody(1, 1);
  const pair = Buffer.alloc(65, 1);
  const N = 200_000;
  const time = (fn: () => void) => {
    for (let i = 0; i < 2000; i++) fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) fn();
    const d = process.cpuUsage(c0);
    return (d.user + d.system) / N;
  };
  const sha = time(() => {
    hash('sha256', body, 'hex');
    hash('sha256', rec, 'hex');
    hash('sha256', pair, 'binary');
  });
  const parse = time(() => JSON.parse(rec.toString('utf8')));
  console.log(`  SHA-256 per record (body, leaf, node; crypto.hash, ${rec.length}+${body.length} B)  ${sha.toFixed(2)} us = ${rate(1e6 / sha)} records per CPU-second`);
  console.log(`  JSON.parse of one record (verify reads its fields)               ${parse.toFixed(2)} us = ${rate(1e6 / parse)} records per CPU-second`);
  console.log(`  hashing + parsing alone, one core                                ${(sha + parse).toFixed(2)} us = ${rate(1e6 / (sha + parse))} records per CPU-second   ${load()}`);
}

console.log(`audit log bench: ${TOTAL.toLocaleString('en')} chunk records over ${SESSIONS} concurrent sessions (${cpus().length} CPUs, ${load()})\n`);
if (process.argv.includes('--segments')) {
  // npx tsx bench/audit.ts [records] --segments: only the append-into-segments figures
  const best = Math.max(await segmentRun(1), await segmentRun(64));
  console.log(`append into segments (best of the two): ${verdict(best, SEGMENT_TARGET)}`);
  process.exit(0);
}
const main = await appendRun('64 sessions, each awaits every append', 1);
const piped = await appendRun('64 sessions, up to 16 appends in flight each', 16);
rmSync(piped.root, { recursive: true, force: true });
const nosync = await appendRun('64 sessions, awaits every append, fsync every batch', 1, { syncEveryBatch: true });
rmSync(nosync.root, { recursive: true, force: true });
await idleLatency();
console.log(`append with 64 sessions each awaiting every append: ${verdict(main.perSecond, APPEND_TARGET)}\n`);
const seg1 = await segmentRun(1);
const seg64 = await segmentRun(64);
console.log(`append into segments (best of the two): ${verdict(Math.max(seg1, seg64), SEGMENT_TARGET)}`);

// Verify throughput over the first store.
const external = await readExternalCheckpoints(main.dataDir);
const db = await openDb(main.dataDir, { create: false });
const trusted = readPublicKeys(main.certsDir);
let t0 = performance.now();
const vcpu = cpuMeter();
const report = await verifyStore(db, { trusted, external });
let secs = (performance.now() - t0) / 1000;
if (!report.ok) throw new Error(`bench store does not verify: ${report.problem?.message}`);
console.log(
  `\nverify: ${report.records.toLocaleString('en')} records, ${report.checkpoints} checkpoints in ${secs.toFixed(2)} s = ` +
    `${Math.round(report.records / secs).toLocaleString('en')} records/s (${vcpu(report.records).text})   ${load()}`,
);
console.log(`verify: ${verdict(report.records / secs, VERIFY_TARGET)}`);

// Disk use after LevelDB compaction (what a long-running log settles to).
await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\u0000', '\uffff');
await db.close();
const bytes = dirBytes(join(main.dataDir, 'log'));
const perChunk = bytes / main.records;
const avgBody = main.bodyBytes / main.chunks;
console.log(`disk: ${(bytes / 1e6).toFixed(1)} MB for ${main.records.toLocaleString('en')} records = ${perChunk.toFixed(0)} bytes per recorded chunk (body ${avgBody.toFixed(0)} bytes + ${(perChunk - avgBody).toFixed(0)} bytes record, index, tree)`);

// Export of one session with inclusion proofs.
const reader = await openLocalReader({ dataDir: main.dataDir, certsDir: main.certsDir });
t0 = performance.now();
let n = 0;
const stats = { records: 0, sessions: 0, uncovered: 0 };
for await (const c of reader.exportBundle({ session: 'bench-7' }, stats)) n += c.length;
secs = (performance.now() - t0) / 1000;
await reader.close();
console.log(`export one session: ${stats.records.toLocaleString('en')} records with proofs in ${secs.toFixed(2)} s (${(n / 1e6).toFixed(1)} MB)`);

await floors(main.dataDir, main.records);
rmSync(main.root, { recursive: true, force: true });
