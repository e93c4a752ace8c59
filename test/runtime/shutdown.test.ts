// SIGTERM through the real entry point while a stream is running: within the grace period the stream
// completes; past it the stream is ended cleanly and recorded as ended by shutdown. Either way: exit 0, no
// fatal or "AUDIT STORE FAILED" line, every session ended, a final checkpoint, and `verify` passes.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, openaiHandler, makeGate } from '../helpers/mock-upstream.js';
import { runCliHere } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(root, 'test/helpers/cli-entry.ts');
const gate = makeGate();
const mock = await startMockUpstream({ handler: openaiHandler(() => gate.wait()) });
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

interface Proc {
  p: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
  dir: string;
  proxyUrl: string;
}

async function startProc(grace: number): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-sigterm-'));
  const port = await freePort();
  const p = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '--listen', `127.0.0.1:${port}`, '--admin', 'off', '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--policy', join(root, 'policies/default.yaml'), '--upstream-ca', mock.caFile, '--connect-to', `api.openai.com:443:127.0.0.1:${mock.port}`, '--shutdown-grace-seconds', String(grace)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d));
  p.stderr!.on('data', (d: Buffer) => (out += d));
  const exit = new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 60_000);
    const check = () => {
      if (out.includes('wiretrail started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout!.on('data', check);
    p.stderr!.on('data', check);
  });
  return { p, out: () => out, exit, dir, proxyUrl: `http://127.0.0.1:${port}` };
}

/** Starts a streamed chat completion and resolves once its first chunk arrived (the mock then waits on the gate). */
async function openStream(proxyUrl: string, caPem: string) {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
  const r = await undiciFetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'one two three four' }] }),
  });
  const reader = r.body!.getReader();
  const first = await reader.read();
  let rest = '';
  const done = (async () => {
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return rest;
      rest += dec.decode(value, { stream: true });
    }
  })();
  return { status: r.status, first: new TextDecoder().decode(first.value), done, dispatcher };
}

async function checkAfter(t: Test, proc: Proc, expectCut: boolean) {
  const certs = join(proc.dir, 'certs');
  const data = join(proc.dir, 'data');
  t.notMatch(proc.out(), /AUDIT STORE FAILED|"level":60|could not close audit session/, 'no fatal or false store-failure line');
  t.match(proc.out(), expectCut ? /stopped: 1 exchanges ended by shutdown/ : /stopped: every exchange finished/);
  const v = await runCliHere(['verify', '--data', data, '--certs', certs]);
  t.equal(v.code, 0, v.stderr);
  t.match(v.stdout, /^ok: .* \(0 open\)/, 'every session ended');
  t.notMatch(v.stdout, /newest records not yet under a checkpoint/, 'a final checkpoint covers every record');
  const list = await runCliHere(['sessions', 'list', '--data', data, '--certs', certs, '--json']);
  const sessions = JSON.parse(list.stdout) as { session: string; ended: boolean }[];
  t.ok(sessions.length >= 1 && sessions.every((s) => s.ended), 'sessions ended normally');
  const show = await runCliHere(['sessions', 'show', sessions[0]!.session, '--data', data, '--certs', certs, '--json']);
  const recs = (JSON.parse(show.stdout) as { records: { kind: string; meta: Record<string, unknown> }[] }).records;
  t.equal(recs.at(-1)!.kind, 'session-end');
  t.equal(recs.at(-1)!.meta.endedBy, 'shutdown', 'the session end says shutdown');
  if (expectCut) t.ok(recs.some((r) => r.kind === 'error' && r.meta.endedBy === 'shutdown' && r.meta.code === 'WT_ERR_SHUTTING_DOWN'), 'the cut stream is recorded as ended by shutdown');
  else t.ok(recs.some((r) => r.kind === 'response-end'), 'the stream completed');
}

t.test('SIGTERM during a stream: the stream completes within the grace period, exit 0, verify passes', async (t) => {
  gate.reset();
  const proc = await startProc(30);
  t.teardown(() => proc.p.kill('SIGKILL'));
  const caPem = (await import('node:fs')).readFileSync(join(proc.dir, 'certs', 'ca.pem'), 'utf8');
  const s = await openStream(proc.proxyUrl, caPem);
  t.equal(s.status, 200);
  t.match(s.first, /data: /);
  proc.p.kill('SIGTERM');
  // New connections are refused while the stream is still running.
  await new Promise<void>((resolve) => {
    const poll = () => {
      const c = net.connect(Number(new URL(proc.proxyUrl).port), '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        setTimeout(poll, 20);
      });
      c.once('error', () => resolve());
    };
    poll();
  });
  gate.open();
  const rest = await s.done;
  t.match(rest, /data: \[DONE\]/, 'the stream completed');
  await s.dispatcher.close();
  t.equal(await proc.exit, 0, 'exit 0');
  await checkAfter(t, proc, false);
});

t.test('SIGTERM with a stream longer than the grace period: ended cleanly and recorded as ended by shutdown', async (t) => {
  gate.reset();
  const proc = await startProc(1);
  t.teardown(() => {
    gate.open();
    proc.p.kill('SIGKILL');
  });
  const caPem = (await import('node:fs')).readFileSync(join(proc.dir, 'certs', 'ca.pem'), 'utf8');
  const s = await openStream(proc.proxyUrl, caPem);
  t.equal(s.status, 200);
  proc.p.kill('SIGTERM');
  const rest = await s.done;
  t.notMatch(rest, /\[DONE\]/, 'the stream was ended before its end');
  await s.dispatcher.close();
  t.equal(await proc.exit, 0, 'exit 0');
  await checkAfter(t, proc, true);
  gate.open();
});
