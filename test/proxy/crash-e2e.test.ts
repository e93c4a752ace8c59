// kill -9 of the real proxy during 64 concurrent streams; restart on the same data; `wiretrail verify` passes and
// every chunk a client received is in the log (a chunk is committed before it is forwarded).
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, chunkLine } from '../helpers/mock-upstream.js';
import { openLocalReader } from '../../src/audit/index.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'wiretrail.js');
spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'ignore' });

const mock = await startMockUpstream({
  handler: async (req: IncomingMessage, _b: string, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const timer = setInterval(() => res.write(chunkLine(`${req.url}#${i}|`, i++)), 15);
    res.on('close', () => clearInterval(timer));
  },
});
t.teardown(() => mock.close());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'wt-crash-'));
const data = join(dir, 'data');
const certs = join(dir, 'certs');
const policy = join(dir, 'policy.yaml');
writeFileSync(policy, 'egress: audit\n');

async function startProxy(port: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [bin, 'start', '--listen', `127.0.0.1:${port}`, '--admin', 'off', '--data', data, '--certs', certs, '--policy', policy, '--upstream-ca', mock.caFile, '--connect-to', `api.openai.com:443:127.0.0.1:${mock.port}`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 30_000);
    p.stderr!.on('data', (d: Buffer) => {
      err += d;
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (c) => reject(new Error(`proxy exited ${c}: ${err}`)));
  });
  return p;
}

t.test('kill -9 during 64 concurrent streams, restart, verify', async (t) => {
  const port = await freePort();
  const proxy = await startProxy(port);
  const dispatcher = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca: (await import('node:fs')).readFileSync(join(certs, 'ca.pem'), 'utf8') }, connections: 64 });
  const received = new Map<string, string>();
  let total = 0;
  const streams = Array.from({ length: 64 }, async (_, k) => {
    const id = `/s${k}`;
    received.set(id, '');
    try {
      const r = await undiciFetch(`https://api.openai.com${id}`, { method: 'POST', body: '{}', dispatcher });
      const dec = new TextDecoder();
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) {
        const s = dec.decode(c, { stream: true });
        received.set(id, received.get(id)! + s);
        total += (s.match(/\|/g) ?? []).length;
      }
    } catch {
      /* the kill cuts every stream */
    }
  });
  // Kill once every stream is flowing (each has a few chunks), so the kill lands mid-stream everywhere.
  const flowing = () => [...received.values()].every((v) => (v.match(/\|/g) ?? []).length >= 3);
  for (let waited = 0; !flowing() && waited < 90_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  proxy.kill('SIGKILL');
  await Promise.all(streams);
  await dispatcher.close();
  const stalled = [...received].filter(([, v]) => (v.match(/\|/g) ?? []).length < 3).map(([id, v]) => `${id}: ${JSON.stringify(v.slice(0, 120))}`);
  t.ok(flowing(), `all 64 streams were flowing when killed (${total} chunks received)${stalled.length ? `; not flowing: ${stalled.slice(0, 4).join('; ')}` : ''}`);

  // Restart on the same data: the log recovers (dangling sessions closed) and serves again.
  const port2 = await freePort();
  const again = await startProxy(port2);
  again.kill('SIGTERM');
  await new Promise((r) => again.once('exit', r));

  const v = spawnSync(process.execPath, [bin, 'verify', '--data', data, '--certs', certs], { encoding: 'utf8', timeout: 120_000 });
  t.equal(v.status, 0, `verify: ${v.stderr}${v.stdout}`);

  // Every chunk a client saw is in the log.
  const reader = await openLocalReader({ dataDir: data, certsDir: certs });
  let recorded = '';
  for (const s of await reader.listSessions({})) {
    for (const r of (await reader.showSession(s.session))?.records ?? []) if (r.kind === 'chunk' && r.body) recorded += r.body.toString('utf8');
  }
  await reader.close();
  let missing = 0;
  for (const [id, text] of received) {
    for (const m of text.matchAll(/"content":"([^"]*\|)"/g)) if (!recorded.includes(m[1]!)) missing++;
    t.ok(text.length > 0, `${id} received data`);
  }
  t.equal(missing, 0, 'no chunk reached a client without being recorded first');
});
