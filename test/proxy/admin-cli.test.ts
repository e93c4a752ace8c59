// The forensic commands against a RUNNING proxy (which holds the LevelDB lock), through its admin API.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'wiretrail.js');
spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'ignore' });

const mock = await startMockUpstream();
const h = await startHarness({ admin: true, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
t.teardown(async () => {
  await h.stop();
  await mock.close();
});
const admin = `http://127.0.0.1:${h.admin!.port}`;

// The CLI runs as a child while the proxy lives in this process, so spawn asynchronously.
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WIRETRAIL_ADMIN_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const curl = (args: string[]) =>
  new Promise<number>((resolve) => spawn('curl', ['-sS', '-o', '/dev/null', '--proxy', h.proxyUrl, '--cacert', h.caPath, ...args]).on('close', (c) => resolve(c ?? -1)));

t.test('verify, sessions, export and verify-bundle work while the proxy runs', async (t) => {
  t.equal(await curl(['-d', '{"stream":true,"messages":[{"role":"user","content":"admin cli"}]}', 'https://api.openai.com/v1/chat/completions']), 0);
  await h.recorder.drained();

  const locked = await cli(['verify', '--data', h.dataDir, '--certs', h.certsDir]);
  t.equal(locked.code, 1, 'the direct path refuses a locked store');
  t.match(locked.stderr, /--admin/, 'and says how to reach the running proxy');
  t.equal(locked.stderr.trim().split('\n').length, 1, 'in one line');

  const v = await cli(['verify', '--admin', admin, '--certs', h.certsDir]);
  t.equal(v.code, 0, v.stderr);

  const list = await cli(['sessions', 'list', '--admin', admin, '--certs', h.certsDir, '--json']);
  t.equal(list.code, 0, list.stderr);
  const sessions = JSON.parse(list.stdout) as { session: string }[];
  t.ok(sessions.length >= 1);

  const show = await cli(['sessions', 'show', sessions[0]!.session, '--admin', admin, '--certs', h.certsDir]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /api\.openai\.com/);

  const out = join(h.dir, 'bundle.ndjson');
  const ex = await cli(['export', '--admin', admin, '--certs', h.certsDir, '--session', sessions[0]!.session, '--out', out]);
  t.equal(ex.code, 0, ex.stderr);
  const vb = await cli(['verify-bundle', out]);
  t.equal(vb.code, 0, vb.stderr + vb.stdout);

  // One changed byte in the bundle fails verification.
  const bytes = readFileSync(out);
  const i = bytes.indexOf('admin cli');
  t.ok(i > 0 || bytes.length > 100);
  const bad = Buffer.from(bytes);
  const at = i > 0 ? i : Math.floor(bytes.length / 2);
  bad[at] = bad[at]! ^ 0x01;
  writeFileSync(out, bad);
  const vb2 = await cli(['verify-bundle', out]);
  t.equal(vb2.code, 1, 'tampered bundle fails');

  const noToken = await cli(['verify', '--admin', admin, '--certs', join(h.dir, 'nowhere')]);
  t.equal(noToken.code, 1, 'the admin API refuses callers without the admin token');
});
