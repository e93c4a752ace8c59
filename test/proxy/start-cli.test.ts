// `wiretrail start` through the real entry point (bin/wiretrail.js on the tsc build).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'wiretrail.js');
// npm test builds first; a single-file run builds here.
if (!existsSync(join(root, 'dist/src/cli/main.js')) || process.env.WT_BUILD === '1') spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function runCli(args: string[], cwd: string) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
}

t.test('usage errors exit 2, bad policy exits 1 with one line naming key and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-cli-'));
  const u = runCli(['start', '--listen', 'nonsense'], dir);
  t.equal(u.status, 2, u.stderr);
  t.match(u.stderr, /--listen: expected HOST:PORT/);
  const unk = runCli(['start', '--bogus'], dir);
  t.equal(unk.status, 2);
  const none = runCli([], dir);
  t.equal(none.status, 2);
  const cmd = runCli(['frobnicate'], dir);
  t.equal(cmd.status, 2);
  t.match(cmd.stderr, /unknown command "frobnicate"/);
  writeFileSync(join(dir, 'bad.yaml'), 'egress: audit\nintercept:\n  - api.openai.com\nmask:\n  placholder: x\n');
  const bad = runCli(['start', '--policy', join(dir, 'bad.yaml'), '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--listen', '127.0.0.1:0', '--admin', 'off'], dir);
  t.equal(bad.status, 1);
  t.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
  t.match(bad.stderr, /bad\.yaml:5: mask\.placholder: unknown key "placholder"/);
});

t.test('start creates the CA (key 0600), prints where it listens and the client lines, stops on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-cli-'));
  const port = await freePort();
  const admin = await freePort();
  const p = spawn(process.execPath, [bin, 'start', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--policy', join(root, 'policies/default.yaml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${stderr}`)), 20_000);
    p.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (stderr.includes('NODE_USE_ENV_PROXY')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  t.match(stderr, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
  t.match(stderr, new RegExp(`HTTPS_PROXY=http://127\\.0\\.0\\.1:${port}`));
  t.match(stderr, /NODE_EXTRA_CA_CERTS=.*ca\.pem/);
  t.equal(statSync(join(dir, 'certs', 'ca-key.pem')).mode & 0o777, 0o600, 'CA key is 0600');
  t.equal(statSync(join(dir, 'certs', 'admin.token')).mode & 0o777, 0o600, 'admin token is 0600');
  const health = await fetch(`http://127.0.0.1:${admin}/healthz`);
  t.equal(health.status, 200);
  t.match(stdout, /"msg":"wiretrail started"/, 'structured log on stdout');
  const code = await new Promise<number | null>((resolve) => {
    p.on('exit', (c) => resolve(c));
    p.kill('SIGTERM');
  });
  t.equal(code, 0, 'clean shutdown');
  t.ok(existsSync(join(dir, 'data')), 'data folder created');
});
