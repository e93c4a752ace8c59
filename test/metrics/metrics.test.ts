// /metrics and /readyz on the admin port, from outside: no token needed, the contract's metric names,
// counters that move under real traffic through the proxy, and readiness that flips on a full disk.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';

const mock = await startMockUpstream();
t.teardown(() => mock.close());

/** One sample's value from Prometheus text, by metric name and exact label set text. */
function sample(text: string, name: string, labels = ''): number | null {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc(name)}${labels ? esc(`{${labels}}`) : ''} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('metrics appear without a token and move under traffic', async (t) => {
  const h = await startHarness({ admin: true, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
  t.teardown(() => h.stop());
  const admin = `http://127.0.0.1:${h.admin!.port}`;
  const scrape = async () => {
    const r = await fetch(`${admin}/metrics`);
    t.equal(r.status, 200);
    t.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text();
  };
  const before = await scrape();
  for (const name of [
    'wiretrail_requests_total',
    'wiretrail_connections_open',
    'wiretrail_masked_secrets_total',
    'wiretrail_upstream_ttfb_seconds',
    'wiretrail_chunk_forward_seconds',
    'wiretrail_audit_append_seconds',
    'wiretrail_audit_batch_records',
    'wiretrail_checkpoint_age_seconds',
    'wiretrail_leaf_cache_entries',
    'wiretrail_policy_decisions_total',
    'nodejs_eventloop_lag_seconds',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
  ]) t.match(before, new RegExp(`^# TYPE ${name} `, 'm'), name);
  t.equal(sample(before, 'wiretrail_leaf_cache_entries'), 0);

  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  t.teardown(() => dispatcher.close().catch(() => undefined));
  const key = 'sk-proj-' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4';
  for (let i = 0; i < 3; i++) {
    const r = await undiciFetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: `my key is ${key}` }] }),
    });
    t.equal(r.status, 200);
    await r.text();
  }
  const reqLabels = 'host="api.openai.com",decision="intercept",status="200"';
  await until(async () => (sample(await scrape(), 'wiretrail_requests_total', reqLabels) ?? 0) >= 3);
  const after = await scrape();
  t.equal(sample(after, 'wiretrail_requests_total', reqLabels), 3, 'requests counted by host, decision, status');
  t.equal(sample(after, 'wiretrail_leaf_cache_entries'), 1, 'one leaf for api.openai.com');
  t.ok((sample(after, 'wiretrail_audit_append_seconds_count') ?? 0) >= 6, 'audit appends timed');
  t.ok((sample(after, 'wiretrail_audit_batch_records_sum') ?? 0) >= 6, 'records counted through the ingester\'s store batches');
  t.equal(sample(after, 'wiretrail_upstream_ttfb_seconds_count'), 3, 'one TTFB per upstream request');
  t.ok((sample(after, 'wiretrail_chunk_forward_seconds_count') ?? 0) >= 3, 'stream chunks timed');
  t.ok((sample(after, 'wiretrail_masked_secrets_total', 'rule="openai-project-key"') ?? sample(after, 'wiretrail_masked_secrets_total', 'rule="openai-api-key"') ?? 0) >= 3, `masked secrets counted by rule: ${after.split('\n').filter((l) => l.startsWith('wiretrail_masked')).join('; ')}`);
  const tunnels = sample(after, 'wiretrail_connections_open') ?? 0;
  t.ok(tunnels >= 1, 'the keep-alive tunnels are open');
  const intercepts = [...after.matchAll(/^wiretrail_policy_decisions_total\{action="intercept",rule="[^"]*"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  t.ok(intercepts >= 1, `policy decisions counted: ${after.split('\n').filter((l) => l.startsWith('wiretrail_policy')).join('; ')}`);
  await dispatcher.close();
  await until(async () => sample(await scrape(), 'wiretrail_connections_open') === 0);
  await until(async () => sample(await scrape(), 'wiretrail_checkpoint_age_seconds') !== null);
  t.ok(sample(await scrape(), 'wiretrail_checkpoint_age_seconds')! < 60, 'a recent checkpoint');

  const ready = await fetch(`${admin}/readyz`);
  t.equal(ready.status, 200);
  t.same(await ready.json(), { ready: true, checks: { store: 'ok', ca: 'ok', policy: 'ok', shutdown: 'ok' } });
  const healthz = await fetch(`${admin}/healthz`);
  t.equal(healthz.status, 200, '/healthz as before');
});

t.test('/readyz flips to 503 with the reason on a full disk and back when space returns', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wt-readyz-'));
  const mnt = join(root, 'mnt');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    t.fail('cannot mount a tmpfs (needs root); the full-disk readiness test requires it');
    return;
  }
  t.teardown(() => {
    execFileSync('umount', ['-l', mnt]);
    rmSync(root, { recursive: true, force: true });
  });
  const h = await startHarness({ admin: true, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`], config: { dataDir: join(mnt, 'data') } });
  t.teardown(() => h.stop());
  const admin = `http://127.0.0.1:${h.admin!.port}`;
  t.equal((await fetch(`${admin}/readyz`)).status, 200);

  // Fill the disk, then send traffic: the append fails and the store stops accepting writes.
  const filler = join(mnt, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
  } catch {
    /* ENOSPC: full */
  }
  closeSync(fd);
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  t.teardown(() => dispatcher.close().catch(() => undefined));
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(200_000) }] });
  for (let i = 0; i < 20 && h.recorder.writable; i++) {
    await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body }).then((r) => r.text(), () => '');
  }
  t.equal(h.recorder.writable, false, 'the store is failing');
  const down = await fetch(`${admin}/readyz`);
  t.equal(down.status, 503);
  const report = (await down.json()) as { ready: boolean; reason: string };
  t.equal(report.ready, false);
  t.match(report.reason, /^store: the audit store cannot write/);

  rmSync(filler);
  await until(async () => (await fetch(`${admin}/readyz`)).status === 200, 60_000);
  t.pass('ready again once space returns');
});
