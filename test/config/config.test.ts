// The one configuration model, from outside: `wiretrail config show`, precedence flags > WIRETRAIL_* >
// config file > defaults, --config on every command, --version, and start-time checks that create nothing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, mkdirSync, chmodSync, readFileSync, existsSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliHere } from '../helpers/cli.js';
import { preflight } from '../../src/cli/preflight.js';
import { loadConfig, DEFAULT_LIMITS } from '../../src/config/index.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'wiretrail.js');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
// npm test builds first; a single-file run builds here.
if (!existsSync(join(root, 'dist/src/cli/main.js')) || process.env.WT_BUILD === '1') spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });

/** The real entry point, in `cwd`, with only the given WIRETRAIL_* variables set. */
function wt(args: string[], cwd: string, env: Record<string, string> = {}, prefix: string[] = []) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WIRETRAIL_')));
  const [cmd, ...rest] = prefix.length ? [...prefix, process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  return spawnSync(cmd!, rest, { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `wt-${name}-`));
const show = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const r = await runCliHere(['config', 'show', '--json', ...args], env);
  return { ...r, json: r.code === 0 ? (JSON.parse(r.stdout) as { file: string | null; settings: Record<string, { value: unknown; source: string; from: string }> }) : null };
};

t.test('--version prints the package version and exits 0', async (t) => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  t.match(version, /^0\.\d+\.\d+$/);
  const r = wt(['--version'], tmp('ver'));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `${version}\n`);
  t.equal(r.stderr, '');
});

t.test('precedence: flag > WIRETRAIL_* > config file > default, each value with its source', async (t) => {
  const dir = tmp('prec');
  const file = join(dir, 'wt.yaml');
  writeFileSync(file, 'listen: 127.0.0.1:7001\nadmin: 127.0.0.1:7002\ndata: rel/data\nlog_level: debug\nlimits:\n  max_request_body_bytes: 1000\nshutdown_grace_seconds: 5\n');
  const def = await show([], { WIRETRAIL_CONFIG: undefined, WIRETRAIL_LISTEN: undefined, WIRETRAIL_LOG_LEVEL: undefined });
  t.equal(def.code, 0, def.stderr);
  t.same(def.json!.settings.listen, { value: '127.0.0.1:8080', source: 'default', from: 'default' });
  t.equal(def.json!.settings['shutdown_grace_seconds']!.value, 30, 'grace period defaults to 30 s');
  t.equal(def.json!.settings['limits.max_request_body_bytes']!.value, 32 * 1024 * 1024);

  const fromFile = await show(['--config', file], { WIRETRAIL_LISTEN: undefined, WIRETRAIL_LOG_LEVEL: undefined });
  t.equal(fromFile.json!.file, file);
  t.same(fromFile.json!.settings.listen, { value: '127.0.0.1:7001', source: 'file', from: file });
  t.equal(fromFile.json!.settings.data!.value, join(dir, 'rel/data'), 'file paths are relative to the file');
  t.equal(fromFile.json!.settings['limits.max_request_body_bytes']!.value, 1000);
  t.equal(fromFile.json!.settings['log_level']!.value, 'debug');

  const fromEnv = await show(['--config', file], { WIRETRAIL_LISTEN: '127.0.0.1:7101', WIRETRAIL_LIMITS_MAX_REQUEST_BODY_BYTES: '2000', WIRETRAIL_LOG_LEVEL: 'warn' });
  t.same(fromEnv.json!.settings.listen, { value: '127.0.0.1:7101', source: 'env', from: 'WIRETRAIL_LISTEN' });
  t.same(fromEnv.json!.settings['limits.max_request_body_bytes'], { value: 2000, source: 'env', from: 'WIRETRAIL_LIMITS_MAX_REQUEST_BODY_BYTES' });
  t.equal(fromEnv.json!.settings['log_level']!.value, 'warn', 'environment beats the file');
  t.equal(fromEnv.json!.settings.admin!.source, 'file', 'values the environment does not set still come from the file');

  const fromFlag = await show(['--config', file, '--listen', '127.0.0.1:7201', '--admin', 'off'], { WIRETRAIL_LISTEN: '127.0.0.1:7101' });
  t.same(fromFlag.json!.settings.listen, { value: '127.0.0.1:7201', source: 'flag', from: '--listen' });
  t.same(fromFlag.json!.settings.admin, { value: null, source: 'flag', from: '--admin' });

  const viaEnvFile = await show([], { WIRETRAIL_CONFIG: file, WIRETRAIL_LISTEN: undefined });
  t.equal(viaEnvFile.json!.settings.listen!.value, '127.0.0.1:7001', 'WIRETRAIL_CONFIG names the file when --config is absent');

  const text = await runCliHere(['config', 'show', '--config', file], { WIRETRAIL_LISTEN: '127.0.0.1:7101' });
  t.match(text.stdout, /^listen\s+127\.0\.0\.1:7101\s+env WIRETRAIL_LISTEN$/m);
  t.match(text.stdout, /^admin\s+127\.0\.0\.1:7002\s+file .*wt\.yaml$/m);
  t.match(text.stdout, /^shutdown_grace_seconds\s+5\s+file/m);
});

t.test('limit defaults live in the configuration model only; the proxy takes the effective ones through its deps', async (t) => {
  const eff = loadConfig({}, {}, tmp('limits'));
  t.same(eff.config.limits, DEFAULT_LIMITS, 'every proxy limit has its default in src/config');
  for (const key of ['limits.max_buffered_bytes', 'limits.credential_recheck_ms']) {
    t.equal(eff.values.get(key)!.source, 'default', `${key} is shown with its default by config show`);
  }
  t.equal(eff.config.limits.maxBufferedBytes, 64 * 1024 * 1024);
  t.equal(eff.config.limits.credentialRecheckMs, 2_000);
  const env = loadConfig({}, { WIRETRAIL_LIMITS_MAX_BUFFERED_BYTES: '1000', WIRETRAIL_LIMITS_CREDENTIAL_RECHECK_MS: '0' }, tmp('limits'));
  t.same([env.config.limits.maxBufferedBytes, env.config.limits.credentialRecheckMs], [1000, 0], 'and the environment overrides them (0 turns the re-check off)');
  const proxy = await import('../../src/proxy/index.js');
  t.notOk('DEFAULT_LIMITS' in proxy, 'the proxy exports no limit defaults of its own');
  const src = readdirSync(join(root, 'src/proxy')).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(root, 'src/proxy', f), 'utf8')).join('\n');
  t.notMatch(src, /\b(maxRequestBodyBytes|maxBufferedBytes|handshakeTimeoutMs|headersTimeoutMs|tunnelIdleTimeoutMs|credentialRecheckMs)\s*:\s*[\d(]/, 'no limit default is typed in src/proxy');
});

t.test('config show masks credentials and bad values name their source', async (t) => {
  const dir = tmp('mask');
  const file = join(dir, 'wt.yaml');
  writeFileSync(file, 'audit:\n  witness:\n    url: https://user:s3cr3tpass@witness.example/add?token=abcdef123\n');
  const r = await runCliHere(['config', 'show', '--config', file]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, /s3cr3tpass|abcdef123|user:/);
  t.match(r.stdout, /witness\.example/);

  const badEnv = await runCliHere(['config', 'show'], { WIRETRAIL_SHUTDOWN_GRACE_SECONDS: 'soon' });
  t.equal(badEnv.code, 1);
  t.match(badEnv.stderr, /WIRETRAIL_SHUTDOWN_GRACE_SECONDS: expected seconds/);
  const badFlag = await runCliHere(['config', 'show', '--listen', 'nope']);
  t.equal(badFlag.code, 2);
  t.match(badFlag.stderr, /--listen: expected HOST:PORT/);
  writeFileSync(join(dir, 'typo.yaml'), 'lisen: 1\n');
  const typo = await runCliHere(['config', 'show', '--config', join(dir, 'typo.yaml')]);
  t.equal(typo.code, 1);
  t.match(typo.stderr, /typo\.yaml:1: .*lisen/);
});

t.test('every command accepts --config and reads its folders from it', async (t) => {
  const missing = join(tmp('nocfg'), 'missing.yaml');
  for (const cmd of [['start'], ['env'], ['ca', 'info'], ['ca', 'export'], ['verify'], ['export', '--out', '/dev/null'], ['sessions', 'list'], ['log-key', 'show'], ['tokens', 'list'], ['mask', '--list-rules'], ['firewall'], ['config', 'show'], ['login', '--oidc-token', 'x']]) {
    const r = await runCliHere([...cmd, '--config', missing]);
    t.equal(r.code, 1, `${cmd.join(' ')} --config: ${r.stderr}`);
    t.match(r.stderr, /missing\.yaml/, `${cmd.join(' ')} reads the config file`);
  }
  const dir = tmp('cfgdirs');
  mkdirSync(join(dir, 'empty-certs'));
  writeFileSync(join(dir, 'wt.yaml'), 'data: nodata\ncerts: empty-certs\n');
  const v = await runCliHere(['verify', '--config', join(dir, 'wt.yaml')]);
  t.equal(v.code, 1);
  t.match(v.stderr, new RegExp(join(dir, 'empty-certs').replace(/[/.]/g, '\\$&')), 'verify looks for keys in the certs folder the config names');
  const ca = await runCliHere(['ca', 'info'], { WIRETRAIL_CERTS: join(dir, 'empty-certs') });
  t.equal(ca.code, 1);
  t.match(ca.stderr, /empty-certs/, 'ca info looks in WIRETRAIL_CERTS');
});

t.test('outside a checkout, start and env refuse to create ./certs and ./data silently; nothing is created', async (t) => {
  const dir = tmp('nocheckout');
  const start = wt(['start', '--policy', join(root, 'policies/default.yaml'), '--listen', '127.0.0.1:0', '--admin', 'off'], dir);
  t.equal(start.status, 1, start.stderr);
  t.match(start.stderr, /pass --data DIR/);
  t.equal(start.stderr.trim().split('\n').length, 1, 'one line');
  const env = wt(['env'], dir);
  t.equal(env.status, 1, env.stderr);
  t.match(env.stderr, /pass --certs DIR .*a new CA and its private key/);
  t.same(readdirSync(dir), [], 'no certs, data or anything else created');

  const noPolicy = wt(['start', '--data', join(dir, 'd'), '--certs', join(dir, 'c'), '--listen', '127.0.0.1:0', '--admin', 'off'], dir);
  t.equal(noPolicy.status, 1);
  t.match(noPolicy.stderr, /no policy at .*policies\/default\.yaml.*pass --policy FILE/);
  t.same(readdirSync(dir), [], 'a missing policy creates nothing');
});

t.test('credential sources are checked at start; --allow-missing-credentials turns them into warnings', async (t) => {
  const dir = tmp('creds');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `egress: audit\nhosts:\n  api.openai.com:\n    credentials:\n      - header: authorization\n        value: "Bearer \${env:WT_TEST_ABSENT_KEY}"\n      - header: x-api-key\n        value: "\${file:${dir}/no-such-key}"\n`);
  const args = ['start', '--policy', policy, '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--listen', '127.0.0.1:0', '--admin', 'off'];
  const r = wt(args, dir);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /credential source unavailable: hosts\.api\.openai\.com\.credentials\[0\]: environment variable WT_TEST_ABSENT_KEY is not set \(and 1 more\)/);
  t.notOk(existsSync(join(dir, 'data')) || existsSync(join(dir, 'certs')), 'nothing half-created');

  const eff = loadConfig({ policy, data: join(dir, 'data'), certs: join(dir, 'certs'), listen: '127.0.0.1:0', admin: 'off', 'allow-missing-credentials': true }, {}, dir);
  const pre = await preflight(eff, dir);
  t.equal(pre.warnings.length, 2);
  t.match(pre.warnings[1]!, /credentials\[1\]: file .*no-such-key cannot be read \(ENOENT\)/);
});

t.test('a port in use is refused before anything is created', async (t) => {
  const dir = tmp('port');
  const net = await import('node:net');
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as import('node:net').AddressInfo).port;
  const r = wt(['start', '--policy', join(root, 'policies/default.yaml'), '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--listen', `127.0.0.1:${port}`, '--admin', 'off'], dir);
  busy.close();
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(--listen\\): EADDRINUSE`));
  t.same(readdirSync(dir), []);
});

t.test('EACCES on the data or certs folder names the path and the permission needed', async (t) => {
  const dir = tmp('eacces');
  chmodSync(dir, 0o755);
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o755 });
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'egress: audit\n', { mode: 0o644 });
  // As root permissions do not apply: run as nobody, who cannot write into root's 0755 folder.
  const asOther = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  if (!asOther.length) chmodSync(locked, 0o555);
  const r = wt(['start', '--policy', policy, '--data', join(locked, 'data'), '--certs', join(locked, 'certs'), '--listen', '127.0.0.1:0', '--admin', 'off'], dir, {}, asOther);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, new RegExp(`data folder ${locked}/data: cannot create it: permission denied on ${locked}; uid \\d+ needs write and search \\(wx\\) permission there`));
  t.same(readdirSync(locked), []);
});

t.test('an interrupted build is rebuilt or reported, never half-run', async (t) => {
  // A copy of the launcher beside a dist/ that has its entry point but no .tsbuildinfo (tsc writes it last).
  const dir = tmp('bin');
  mkdirSync(join(dir, 'bin'));
  cpSync(bin, join(dir, 'bin', 'wiretrail.js'));
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), 'export async function main() { return 0; }\n');
  writeFileSync(join(dir, 'package.json'), '{"name":"wiretrail","type":"module"}\n');
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'wiretrail.js'), '--version'], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /not built; run `npm install` or `npm run build`/);
});
