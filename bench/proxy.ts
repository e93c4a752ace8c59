// Proxy benchmark (issues 2, 11): `node --import tsx bench/proxy.ts [--quick] [--no-mitmproxy] [--no-squid] [--only s1,s3,...]`
// (normally through `npm run bench`, which builds first). On loopback, side by side in one run:
//   direct     client → mock upstream
//   wiretrail  client → wiretrail (built, own process, shipped default policy: intercept, mask, record) → mock
//   mitmproxy  client → mitmdump (Debian's, recording to a flow file, streaming on) → mock   [if installed]
//   squid      client → squid (Debian's squid-openssl, ssl-bump, generated certificates, no cache, one worker) → mock   [if installed]
// The scenarios interleave the targets round by round, so load on the machine hits them alike.
// The mock upstream (HTTPS, own test CA, OpenAI chat completions JSON + SSE) runs in its own process.
// Prints a markdown table with PASS/MISS per target and writes it to bench/results/latest.md.
import { mkdirSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg, cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { benchLeafIssuance, formatLeafBench } from './leaf.js';
import { directTarget, jsonRequest, proxiedTarget, streamRequest, chatBody, type Target } from './lib/client.js';
import { ROOT, startMitmdump, startMock, startSquid, startWiretrail, type Child, type ProxyChild } from './lib/processes.js';
import { markdownTable, type BenchResults } from './lib/report.js';
import { s1Sequential, s2Throughput, s3StreamLatency, s4ConcurrentStreams, s5FreshConnections } from './lib/scenarios.js';
import { mb } from './lib/stats.js';
import { cpuSeconds, machineBusySeconds } from './lib/proc.js';

const USAGE = 'usage: node --import tsx bench/proxy.ts [--quick] [--no-mitmproxy] [--no-squid] [--only s1,s2,s3,s4,s5,s6] [--out FILE] [--cpu-prof DIR [--cpu-prof-interval US]] [--wiretrail-bin FILE] [--variant NAME=BIN]...';
const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const value = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--only' || a === '--out' || a === '--cpu-prof' || a === '--cpu-prof-interval' || a === '--wiretrail-bin' || a === '--variant') i++;
  else if (a !== '--quick' && a !== '--no-mitmproxy' && a !== '--no-squid') {
    process.stderr.write(`${a === '--help' ? '' : `unknown argument ${a}\n`}${USAGE}\n`);
    process.exit(a === '--help' ? 0 : 2);
  }
}
const values = (f: string) => argv.flatMap((a, i) => (a === f && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const quick = flag('--quick');
// --variant NAME=BIN: another wiretrail build as one more column, measured in the same interleaved rounds
// (an A/B of a local change under the same machine load).
const variants = values('--variant').map((v) => {
  const eq = v.indexOf('=');
  if (eq <= 0) {
    process.stderr.write(`--variant wants NAME=BIN, got "${v}"\n${USAGE}\n`);
    process.exit(2);
  }
  return { name: `wiretrail-${v.slice(0, eq)}`, bin: resolve(v.slice(eq + 1)) };
});
const only = new Set((value('--only') ?? 's1,s2,s3,s4,s5,s6').split(',').map((s) => s.trim()));
for (const s of only) {
  if (!/^s[1-6]$/.test(s)) {
    process.stderr.write(`--only: unknown scenario "${s}" (s1..s6)\n${USAGE}\n`);
    process.exit(2);
  }
}
// latest.md holds only a complete run of the shipped build; anything else goes beside it.
const partial = only.size < 6 || variants.length > 0 || value('--wiretrail-bin') !== undefined || value('--cpu-prof') !== undefined || flag('--no-mitmproxy') || flag('--no-squid');
const outFile = value('--out') ?? join(ROOT, 'bench/results', quick ? 'latest-quick.md' : partial ? 'latest-partial.md' : 'latest.md');

// Sized so the full run of every scenario stays near 5 minutes on 2 cores with mitmproxy present.
const P = quick
  ? { s1Requests: 300, s1Rounds: 3, s2Seconds: 2, s2Rounds: 1, s3Streams: 2, s4PerWorker: 2, s5Requests: 60, s5Rounds: 2, s6Hosts: 1000 }
  : { s1Requests: 1500, s1Rounds: 5, s2Seconds: 4, s2Rounds: 3, s3Streams: 10, s4PerWorker: 3, s5Requests: 300, s5Rounds: 5, s6Hosts: 1000 };
const params: BenchResults['params'] = {
  s1Requests: P.s1Requests,
  s2Concurrency: 32,
  s2Seconds: P.s2Seconds * P.s2Rounds,
  s3Streams: P.s3Streams,
  s3Chunks: 200,
  s3IntervalMs: 10,
  s4Streams: 64,
  s4Chunks: 200,
  // 20 ms = 50 chunks/s per stream, a fast model's pace; 64 streams offer 3,200 chunks/s.
  s4IntervalMs: 20,
  s4PerWorker: P.s4PerWorker,
  s4MaxIntervalMs: 1,
  s5Requests: P.s5Requests,
  s6Hosts: P.s6Hosts,
};

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const children: Child[] = [];
// CPU seconds of our own child processes, read as each stops (for the share other work took).
let childCpu = 0;
const stopAll = async () => {
  for (const c of children.reverse()) {
    childCpu += cpuSeconds(c.pid) ?? 0;
    await c.stop().catch(() => undefined);
  }
  children.length = 0;
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const st = statSync(p);
      n += st.isDirectory() ? dirBytes(p) : st.size;
    }
  } catch {
    /* gone */
  }
  return n;
}

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

const results: BenchResults = { targets: [], params };
const notes: string[] = [];
const load0 = loadavg();
const busy0 = machineBusySeconds();
const self0 = process.cpuUsage();
const started = Date.now();
let wiretrail: ProxyChild | null = null;
let mitm: ProxyChild | null = null;
let squid: ProxyChild | null = null;
try {
  log(`starting the mock upstream, wiretrail${flag('--no-mitmproxy') ? '' : ' and mitmdump'}${quick ? ' (quick run)' : ''}`);
  const mock = await startMock();
  children.push(mock);
  // --cpu-prof DIR: V8 CPU profile of the wiretrail process (written when it exits), to see where time goes.
  const prof = value('--cpu-prof');
  // --wiretrail-bin FILE: another build (e.g. a copy of bin/ + dist/ with an experimental change).
  const bin = value('--wiretrail-bin');
  const profInterval = value('--cpu-prof-interval');
  const profArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`, ...(profInterval ? [`--cpu-prof-interval=${profInterval}`] : [])] : [];
  wiretrail = await startWiretrail(mock, { ...(prof ? { nodeArgs: profArgs } : {}), ...(bin ? { bin: resolve(bin) } : {}) });
  children.push(wiretrail);
  const targets: Target[] = [directTarget(mock.port, mock.caPem), proxiedTarget('wiretrail', wiretrail.port, wiretrail.caPem, wiretrail.pid)];
  for (const v of variants) {
    const child = await startWiretrail(mock, { bin: v.bin });
    children.push(child);
    targets.push(proxiedTarget(v.name, child.port, child.caPem, child.pid));
  }
  if (!flag('--no-mitmproxy')) {
    try {
      mitm = await startMitmdump(mock);
      if (mitm) {
        children.push(mitm);
        targets.push(proxiedTarget('mitmproxy', mitm.port, mitm.caPem, mitm.pid));
      } else notes.push('mitmproxy: /usr/bin/mitmdump not installed (apt-get install mitmproxy), column left out.');
    } catch (err) {
      notes.push(`mitmproxy: could not start (${(err as Error).message.split('\n')[0]}), column left out.`);
    }
  }
  if (!flag('--no-squid')) {
    try {
      squid = await startSquid(mock);
      if (squid) {
        children.push(squid);
        targets.push(proxiedTarget('squid', squid.port, squid.caPem, squid.pid));
      } else notes.push('squid: /usr/sbin/squid or its certgen helper not installed (apt-get install squid-openssl), column left out.');
    } catch (err) {
      notes.push(`squid: could not start (${(err as Error).message.split('\n')[0]}), column left out.`);
    }
  }
  results.targets = targets.map((t) => t.name);

  // Sanity: every path answers JSON and delivers every stamped chunk intact.
  for (const t of targets) {
    const d = t.dispatcher(1);
    await jsonRequest(d, chatBody({}));
    await streamRequest(d, 10, 1);
    await d.close();
  }
  log(`all paths answer: ${results.targets.join(', ')}`);

  if (only.has('s1')) {
    log('s1 sequential JSON requests');
    results.s1 = await s1Sequential(targets, { requests: P.s1Requests, rounds: P.s1Rounds, warmup: 50 });
  }
  if (only.has('s2')) {
    log('s2 requests/s at concurrency 32');
    results.s2 = await s2Throughput(targets, { concurrency: 32, seconds: P.s2Seconds, rounds: P.s2Rounds, warmupSeconds: 1 });
  }
  if (only.has('s3')) {
    log('s3 per-chunk latency of a 200-chunk SSE stream');
    results.s3 = await s3StreamLatency(targets, { streams: P.s3Streams, chunks: 200, intervalMs: params.s3IntervalMs });
  }
  if (only.has('s4')) {
    log('s4 64 concurrent streams');
    results.s4 = await s4ConcurrentStreams(targets, { streams: 64, chunks: 200, intervalMs: params.s4IntervalMs, perWorker: P.s4PerWorker });
    log('s4 saturated: 64 streams, chunks 1 ms apart');
    results.s4max = await s4ConcurrentStreams(targets, { streams: 64, chunks: 200, intervalMs: params.s4MaxIntervalMs, perWorker: 5 });
  }
  if (only.has('s5')) {
    log('s5 a new connection per request');
    results.s5 = await s5FreshConnections(targets, { requests: P.s5Requests, rounds: P.s5Rounds, warmup: 10 });
  }
  if (wiretrail) notes.push(`wiretrail recorded the run into ${mb(dirBytes(join(wiretrail.dir, 'data')))} of LevelDB (data dir), as in production.`);
  if (mitm) notes.push(`mitmdump wrote ${mb(statSize(join(mitm.dir, 'flows.mitm')))} of flows (streamed bodies are not kept).`);
  await stopAll();

  if (only.has('s6')) {
    log(`s6 leaf issuance for ${P.s6Hosts} new hosts`);
    results.s6 = await benchLeafIssuance(P.s6Hosts);
  }
} catch (err) {
  await stopAll();
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}

const load1 = loadavg();
const busy1 = machineBusySeconds();
const selfCpu = process.cpuUsage(self0);
const wallSecs = (Date.now() - started) / 1000;
// Machine busy time minus what the bench's own processes used = what other work took meanwhile.
const foreignCores = busy0 !== null && busy1 !== null ? Math.max(0, busy1 - busy0 - childCpu - (selfCpu.user + selfCpu.system) / 1e6) / wallSecs : null;
const table = markdownTable(results);
const cpu = cpus();
const setup = [
  `Run ${new Date(started).toISOString()} on commit ${gitCommit()}${quick ? ' (--quick)' : ''}, ${wallSecs.toFixed(0)} s.`,
  `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? '?'}, ${mb(totalmem())} RAM, Node ${process.version}` +
    `${mitm ? `, mitmproxy ${mitm.version}` : ''}${squid ? `, Squid ${squid.version} (ssl-bump, no cache, one worker)` : ''}; load average ${load0[0]!.toFixed(2)} at start, ${load1[0]!.toFixed(2)} at end.`,
  ...(foreignCores !== null
    ? [`Other work on the machine (not the bench's processes) used ${foreignCores.toFixed(2)} of the ${cpu.length} cores on average during the run.`]
    : []),
  ...(foreignCores !== null && foreignCores > 0.25
    ? [`**Busy machine**: other processes competed for the CPU during the run; latency percentiles (above all p99) are inflated by scheduling delays, and the direct column shows by how much. The CPU-time rows are less affected. Judge the latency targets on a quiet machine.`]
    : []),
  `Processes: bench client (undici; this process), mock upstream (own Node process), wiretrail (own process, \`node bin/wiretrail.js start\`)` +
    `${variants.length ? `, ${variants.map((v) => `${v.name} (${v.bin})`).join(', ')}` : ''}${mitm ? ', mitmdump (own process)' : ''}${squid ? ', squid (own process; certificate helpers beside it)' : ''}, all on 127.0.0.1, sharing the cores.`,
  ...notes,
];
const md = `${table}\n\n${setup.map((s) => `- ${s}`).join('\n')}\n`;
console.log(`\n## Proxy benchmark\n\n${md}`);
if (results.s6) console.log(`\n${formatLeafBench(results.s6)}\n`);
mkdirSync(join(outFile, '..'), { recursive: true });
writeFileSync(outFile, `# wiretrail proxy benchmark\n\n${md}${results.s6 ? `\n\`\`\`\n${formatLeafBench(results.s6)}\n\`\`\`\n` : ''}`);
log(`written to ${outFile}`);
