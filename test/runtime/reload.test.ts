// SIGHUP through the real entry point under traffic: no request is lost, the process keeps running, a
// changed upstream CA bundle is applied and a bad one is refused with one log line (the old roots stay).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream } from '../helpers/mock-upstream.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(root, 'test/helpers/cli-entry.ts');
const mock = await startMockUpstream();
t.teardown(() => mock.close());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

t.test('SIGHUP under traffic loses no request; a bad CA bundle is refused and the old one stays', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-sighup-'));
  const caFile = join(dir, 'upstream-ca.pem');
  writeFileSync(caFile, readFileSync(mock.caFile));
  const port = await freePort();
  const p = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '--listen', `127.0.0.1:${port}`, '--admin', 'off', '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--policy', join(root, 'policies/default.yaml'), '--upstream-ca', caFile, '--connect-to', `api.openai.com:443:127.0.0.1:${mock.port}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => p.kill('SIGKILL'));
  let out = '';
  const seen = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never saw ${re}: ${out}`)), 60_000);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on('data', check);
      p.stderr!.on('data', check);
      check();
    });
  p.stdout!.on('data', (d: Buffer) => (out += d));
  p.stderr!.on('data', (d: Buffer) => (out += d));
  let exited = false;
  p.on('exit', () => (exited = true));
  await seen(/wiretrail started/);
  const caPem = readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8');
  const dispatcher = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca: caPem } });
  t.teardown(() => dispatcher.close().catch(() => undefined));
  const ask = async (i: number) => {
    const r = await undiciFetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: `request ${i}` }] }),
    });
    return { status: r.status, text: await r.text() };
  };

  // Requests in flight while SIGHUPs arrive: every one is answered in full.
  const results: Promise<{ status: number; text: string }>[] = [];
  for (let i = 0; i < 24; i++) {
    results.push(ask(i));
    if (i % 6 === 3) p.kill('SIGHUP');
  }
  const done = await Promise.all(results);
  t.same(done.map((r) => r.status), Array(24).fill(200), 'no request lost');
  t.ok(done.every((r) => r.text.includes('[DONE]')), 'every stream complete');
  await seen(/reloaded \(SIGHUP\): 1 upstream CA files; every credential source available/);
  t.notOk(exited, 'SIGHUP does not stop the process');

  // A broken bundle: refused with one line, the previous roots stay.
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
  p.kill('SIGHUP');
  await seen(/upstream CA reload refused \(SIGHUP\)/);
  t.equal(out.match(/upstream CA reload refused/g)!.length, 1, 'one line');
  const after = await ask(99);
  t.equal(after.status, 200, 'the previous roots still verify the upstream');
  t.notOk(exited);
});
