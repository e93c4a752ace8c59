// Audit log benchmark (npx tsx bench/audit.ts [records]): append throughput with 64 concurrent
// sessions, append latency, verify throughput, export, and bytes on disk per recorded chunk.
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openAuditLog, verifyStore, readPublicKeys, readExternalCheckpoints } from '../src/audit/index.js';
import { openDb } from '../src/audit/store.js';

const TOTAL = Number(process.argv[2] ?? 200_000);
const SESSIONS = 64;
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

/** CPU seconds used by this process (all threads) since `from`: throughput less sensitive to a busy machine. */
function cpuSecs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

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
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const session = `bench-${s}`;
      await log.append({ session, kind: 'connect', meta: { target: 'api.openai.com:443' } });
      let inflight: Promise<unknown>[] = [];
      for (let i = 0; i < per; i++) {
        const body = chunkBody(s, i);
        bodyBytes += body.length;
        const start = performance.now();
        const p = log.append({ session, kind: 'chunk', meta: { at: Date.now() }, body }).then(() => {
          if (i % 16 === 0) lat.push(performance.now() - start);
        });
        inflight.push(p);
        if (inflight.length >= window) {
          await Promise.all(inflight);
          inflight = [];
        }
      }
      await Promise.all(inflight);
      await log.endSession(session);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuSecs(c0);
  const records = log.size;
  await log.close();
  const chunks = per * SESSIONS;
  console.log(
    `${label.padEnd(54)} ${Math.round(records / secs).toLocaleString('en').padStart(7)} records/s` +
      ` (${Math.round(records / cpu).toLocaleString('en')} per CPU-second)` +
      `   append latency p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`,
  );
  return { root, dataDir, certsDir, records, chunks, bodyBytes };
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
  console.log(`${'single stream, one append at a time'.padEnd(44)} append latency p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`);
}

const { loadavg, cpus } = await import('node:os');
console.log(`audit log bench: ${TOTAL.toLocaleString('en')} chunk records over ${SESSIONS} concurrent sessions (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)})\n`);
const main = await appendRun('64 sessions, each awaits every append', 1);
const piped = await appendRun('64 sessions, up to 16 appends in flight each', 16);
rmSync(piped.root, { recursive: true, force: true });
const nosync = await appendRun('64 sessions, awaits every append, fsync every batch', 1, { syncEveryBatch: true });
rmSync(nosync.root, { recursive: true, force: true });
await idleLatency();

// Verify throughput over the first store.
const external = await readExternalCheckpoints(main.dataDir);
const db = await openDb(main.dataDir, { create: false });
const trusted = readPublicKeys(main.certsDir);
let t0 = performance.now();
const c0 = process.cpuUsage();
const report = await verifyStore(db, { trusted, external });
let secs = (performance.now() - t0) / 1000;
const vcpu = cpuSecs(c0);
if (!report.ok) throw new Error(`bench store does not verify: ${report.problem?.message}`);
console.log(
  `\nverify: ${report.records.toLocaleString('en')} records, ${report.checkpoints} checkpoints in ${secs.toFixed(2)} s = ` +
    `${Math.round(report.records / secs).toLocaleString('en')} records/s (${Math.round(report.records / vcpu).toLocaleString('en')} per CPU-second)`,
);

// Disk use after LevelDB compaction (what a long-running log settles to).
await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\u0000', '\uffff');
await db.close();
const bytes = dirBytes(join(main.dataDir, 'log'));
const perChunk = bytes / main.records;
const avgBody = main.bodyBytes / main.chunks;
console.log(`disk: ${(bytes / 1e6).toFixed(1)} MB for ${main.records.toLocaleString('en')} records = ${perChunk.toFixed(0)} bytes per recorded chunk (body ${avgBody.toFixed(0)} bytes + ${(perChunk - avgBody).toFixed(0)} bytes record, index, tree)`);

// Export of one session with inclusion proofs.
const { openLocalReader } = await import('../src/audit/index.js');
const reader = await openLocalReader({ dataDir: main.dataDir, certsDir: main.certsDir });
t0 = performance.now();
let n = 0;
const stats = { records: 0, sessions: 0, uncovered: 0 };
for await (const c of reader.exportBundle({ session: 'bench-7' }, stats)) n += c.length;
secs = (performance.now() - t0) / 1000;
await reader.close();
console.log(`export one session: ${stats.records.toLocaleString('en')} records with proofs in ${secs.toFixed(2)} s (${(n / 1e6).toFixed(1)} MB)`);
rmSync(main.root, { recursive: true, force: true });
