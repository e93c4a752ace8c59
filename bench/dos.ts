// Memory and fairness under the denial-of-service cases of issue 9, against wiretrail in its own process
// (run from source with tsx): RSS before and peak during each attack, and another client's latency while
// it runs. Prints figures; never fails on them.  Run: npx tsx bench/dos.ts [--quick]
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentRss, peakRss, resetPeakRss } from './lib/proc.js';
import { ROOT } from './lib/processes.js';

const MiB = 1024 * 1024;
const quick = process.argv.includes('--quick');

/** Plain-HTTP on-prem sink (Ollama-like): reads and discards the body, answers a small JSON. */
async function startSink(): Promise<{ port: number; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"done":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function startProxy(sinkPort: number): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-dos-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'egress: audit\nintercept: [ollama.internal]\n');
  // sink.internal is not intercepted: a CONNECT to it is a blind tunnel to the same sink.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/cli-entry.ts'), 'start', '--listen', '127.0.0.1:0', '--admin', 'off', '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--policy', policy, '--connect-to', `ollama.internal:11434:127.0.0.1:${sinkPort}`, '--connect-to', `sink.internal:11434:127.0.0.1:${sinkPort}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`wiretrail exited ${c}: ${buf}`)));
  });
  proc.stderr!.resume();
  return {
    pid: proc.pid!,
    port,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs `size` bytes through the proxy as fast as it reads; resolves with status and ms. */
function post(proxyPort: number, url: string, size: number): Promise<{ status: number; ms: number; sent: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    let sent = 0;
    let head = '';
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ status, ms: performance.now() - started, sent });
    };
    s.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m && head.includes('\r\n\r\n')) finish(Number(m[1]));
    });
    // A refusal may arrive while the body is still being written; read it before calling the socket gone.
    s.on('error', () => undefined);
    s.on('close', () => finish(0));
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const pump = () => {
      while (!done && sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!s.write(chunk.subarray(0, n))) return void s.once('drain', pump);
      }
    };
    s.once('connect', () => {
      s.write(`POST ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
      pump();
    });
  });
}

/** CONNECT, then one small request through the tunnel and its answer; ms from connect to answer. */
function connectAndAsk(proxyPort: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    let buf = '';
    let tunnelled = false;
    const done = () => {
      s.destroy();
      resolve(performance.now() - started);
    };
    s.on('error', done);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!tunnelled && buf.includes('\r\n\r\n')) {
        tunnelled = true;
        buf = '';
        s.write('POST /api/chat HTTP/1.1\r\nHost: sink.internal:11434\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      } else if (tunnelled && /\r\n\r\n[\s\S]*"done"/.test(buf)) done();
    });
    s.once('connect', () => s.write('CONNECT sink.internal:11434 HTTP/1.1\r\nHost: sink.internal:11434\r\n\r\n'));
  });
}

/** Another tenant: small requests one after the other while the attack runs; latency per request. */
async function bystander(proxyPort: number, until: () => boolean, ask = (p: number) => post(p, 'http://ollama.internal:11434/api/chat', 512).then((r) => r.ms)): Promise<number[]> {
  const out: number[] = [];
  while (!until()) {
    out.push(await ask(proxyPort));
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/** Both tenants at once: intercepted plain-HTTP requests, and CONNECT + a request through the tunnel. */
async function bystanders(proxyPort: number, until: () => boolean): Promise<{ plain: number[]; connect: number[] }> {
  const [plain, connect] = await Promise.all([bystander(proxyPort, until), bystander(proxyPort, until, connectAndAsk)]);
  return { plain, connect };
}

const figures = (l: { plain: number[]; connect: number[] }) => [`${pct(l.plain, 50).toFixed(1)} / ${pct(l.plain, 99).toFixed(1)}`, `${pct(l.connect, 50).toFixed(1)} / ${pct(l.connect, 99).toFixed(1)}`];

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);
const mb = (n: number | null) => (n === null ? '?' : (n / MiB).toFixed(0));

async function main() {
  const sink = await startSink();
  const proxy = await startProxy(sink.port);
  const rows: string[][] = [];
  try {
    for (let i = 0; i < 20; i++) await post(proxy.port, 'http://ollama.internal:11434/api/chat', 1024); // warm up
    const idle = await bystanders(proxy.port, ((n) => () => n-- <= 0)(60));
    rows.push(['baseline (no attack)', mb(currentRss(proxy.pid)), mb(currentRss(proxy.pid)), '-', ...figures(idle)]);

    // Case 1: a 400 MiB body to a target the SSRF guard refuses (plain-HTTP absolute form).
    {
      const closed = net.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as net.AddressInfo).port;
      closed.close();
      const before = currentRss(proxy.pid);
      resetPeakRss(proxy.pid);
      let attacking = true;
      const lat = bystanders(proxy.port, () => !attacking);
      const r = await post(proxy.port, `http://127.0.0.1:${port}/upload`, (quick ? 100 : 400) * MiB);
      attacking = false;
      const l = await lat;
      rows.push([`${quick ? 100 : 400} MiB body to a refused target`, mb(before), mb(peakRss(proxy.pid)), `${r.status} after ${mb(r.sent)} MiB sent, ${r.ms.toFixed(0)} ms`, ...figures(l)]);
    }
    // Case 2: 12 concurrent 31 MiB bodies to an intercepted host (under the 32 MiB per-request limit).
    {
      const n = quick ? 6 : 12;
      const before = currentRss(proxy.pid);
      resetPeakRss(proxy.pid);
      let attacking = true;
      const lat = bystanders(proxy.port, () => !attacking);
      const results = await Promise.all(Array.from({ length: n }, () => post(proxy.port, 'http://ollama.internal:11434/api/chat', 31 * MiB)));
      attacking = false;
      const l = await lat;
      const by = new Map<number, number>();
      for (const r of results) by.set(r.status, (by.get(r.status) ?? 0) + 1);
      rows.push([`${n} concurrent 31 MiB bodies (0 = reset before an answer)`, mb(before), mb(peakRss(proxy.pid)), [...by].map(([s, c]) => `${c}×${s}`).join(' '), ...figures(l)]);
    }
  } finally {
    await proxy.stop();
    sink.close();
  }
  const header = ['case', 'RSS before MiB', 'RSS peak MiB', 'attack answered', "other client's request ms p50 / p99", "other client's CONNECT + request ms p50 / p99"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

await main();
