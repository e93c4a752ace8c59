// `wiretrail ca` and `wiretrail env` through the CLI entry, and the trust they set up checked with real clients.
import t from 'tap';
import { readFileSync, statSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { loadOrCreateCA } from '../../src/ca/index.js';
import { runCli, run } from './cli.js';
import { nodeProxyPreload } from '../../src/ca/index.js';

const ENV_NAMES = ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'NODE_USE_ENV_PROXY'];

/** Evaluates sh output in /bin/sh and returns the variables it exported. */
async function shEval(script: string): Promise<Record<string, string>> {
  const r = await run('sh', ['-c', 'eval "$WT_ENV" && env -0'], { env: { PATH: process.env.PATH, WT_ENV: script } });
  if (r.code !== 0) throw new Error(`sh failed: ${r.stderr}`);
  return Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

t.test('env creates the CA, writes the bundle and prints every client line', async (t) => {
  const cwd = t.testdir();
  // Outside a checkout the certs folder is named explicitly (the default ./certs is refused there).
  const first = await runCli(['env', '--certs', 'certs'], { cwd });
  t.equal(first.code, 0, 'exit 0');
  t.match(first.stderr, /created a new CA at .*ca\.pem/);
  const certs = join(cwd, 'certs');
  t.equal(statSync(join(certs, 'ca-key.pem')).mode & 0o777, 0o600);

  const text = first.stdout.toString();
  const expected = nodeProxyPreload(process.version).needed ? [...ENV_NAMES, 'NODE_OPTIONS'] : ENV_NAMES;
  const lines = text.trimEnd().split('\n').filter((l) => !l.startsWith('# '));
  t.same(lines.map((l) => /^export ([A-Za-z_]+)=/.exec(l)?.[1]), expected, 'every line, in order (comments say why)');
  const vars = await shEval(text);
  t.equal(vars.HTTPS_PROXY, 'http://127.0.0.1:8080');
  t.equal(vars.https_proxy, 'http://127.0.0.1:8080');
  t.equal(vars.NO_PROXY, 'localhost,127.0.0.1,::1');
  t.equal(vars.no_proxy, 'localhost,127.0.0.1,::1');
  t.equal(vars.NODE_EXTRA_CA_CERTS, join(certs, 'ca.pem'), 'our CA alone');
  for (const n of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) t.equal(vars[n], join(certs, 'bundle.pem'), n);
  t.equal(vars.NODE_USE_ENV_PROXY, '1');

  const caPem = readFileSync(join(certs, 'ca.pem'), 'utf8');
  const bundle = readFileSync(join(certs, 'bundle.pem'), 'utf8');
  t.ok(bundle.includes(caPem.trim()), 'bundle holds our CA');
  t.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 50, 'and the system roots');

  const second = await runCli(['env'], { cwd });
  t.equal(second.code, 0);
  t.notMatch(second.stderr, /created/, 'the existing CA is reused');
  t.equal(readFileSync(join(certs, 'ca.pem'), 'utf8'), caPem);
});

t.test('env options, shells and quoting', async (t) => {
  const cwd = t.testdir();
  const certs = join(cwd, "odd dir's certs");
  const bundle = join(cwd, 'out', 'trust.pem');
  const r = await runCli(['env', '--certs', certs, '--proxy', 'http://proxy.internal:3128/', '--no-proxy', ' a.example, .corp.example ,10.0.0.0/8', '--bundle', bundle], { cwd });
  t.equal(r.code, 0, r.stderr);
  const vars = await shEval(r.stdout.toString());
  t.equal(vars.HTTPS_PROXY, 'http://proxy.internal:3128');
  t.equal(vars.NO_PROXY, 'a.example,.corp.example,10.0.0.0/8');
  t.equal(vars.NODE_EXTRA_CA_CERTS, join(certs, 'ca.pem'), 'quoted path survives eval');
  t.equal(vars.SSL_CERT_FILE, bundle);
  t.ok(existsSync(bundle));

  const fish = await runCli(['env', '--certs', certs, '--shell', 'fish'], { cwd });
  t.equal(fish.code, 0);
  t.match(fish.stdout.toString(), /^set -gx HTTPS_PROXY 'http:\/\/127\.0\.0\.1:8080'$/m);
  t.match(fish.stdout.toString(), /^set -gx NODE_EXTRA_CA_CERTS '.*odd dir\\'s certs\/ca\.pem'$/m);
  const ps = await runCli(['env', '--certs', certs, '--shell', 'powershell'], { cwd });
  t.equal(ps.code, 0);
  t.match(ps.stdout.toString(), /^\$env:NODE_USE_ENV_PROXY = '1'$/m);
  t.match(ps.stdout.toString(), /^\$env:NODE_EXTRA_CA_CERTS = '.*odd dir''s certs\/ca\.pem'$/m);
});

t.test('env usage errors exit 2, failures exit 1 with one line', async (t) => {
  const cwd = t.testdir();
  for (const args of [['env', '--shell', 'zsh'], ['env', '--proxy', 'ftp://x:21'], ['env', '--proxy', 'not a url'], ['env', '--proxy', 'http://h:1/path'], ['env', '--bogus'], ['env', '--no-proxy', 'a b']]) {
    const r = await runCli(args, { cwd });
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /^wiretrail env: /);
  }
  t.notOk(existsSync(join(cwd, 'certs')), 'usage errors create nothing');

  const ok = await runCli(['env', '--certs', 'certs'], { cwd });
  t.equal(ok.code, 0);
  chmodSync(join(cwd, 'certs', 'ca-key.pem'), 0o644);
  const bad = await runCli(['env'], { cwd });
  t.equal(bad.code, 1);
  t.equal(bad.stderr.trimEnd().split('\n').length, 1, 'one line');
  t.match(bad.stderr, /readable by group or others.*chmod 600/);
  t.equal(bad.stdout.length, 0, 'nothing to eval');
});

t.test('ca export writes the certificate as pem, der or a certificate-only p12', async (t) => {
  const cwd = t.testdir();
  const ca = await loadOrCreateCA({ certsDir: join(cwd, 'certs') });

  const pem = await runCli(['ca', 'export'], { cwd });
  t.equal(pem.code, 0, pem.stderr);
  t.equal(pem.stdout.toString(), ca.certPem);
  const pem2 = await runCli(['ca', 'export', '--certs', join(cwd, 'certs'), '--format', 'pem'], { cwd: join(cwd, 'certs') });
  t.equal(pem2.stdout.toString(), ca.certPem);

  const der = await runCli(['ca', 'export', '--format', 'der'], { cwd });
  t.equal(der.code, 0);
  t.same(der.stdout, ca.certDer, 'DER bytes');
  t.equal(new X509Certificate(der.stdout).fingerprint256, ca.fingerprint256);

  const p12 = await runCli(['ca', 'export', '--format', 'p12'], { cwd });
  t.equal(p12.code, 0);
  const asn = forge.asn1.fromDer(p12.stdout.toString('binary'));
  const parsed = forge.pkcs12.pkcs12FromAsn1(asn, ''); // verifies the MAC under the empty password
  const bags = parsed.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  t.equal(bags.length, 1, 'one certificate');
  t.equal(Buffer.from(forge.asn1.toDer(bags[0]!.asn1!).getBytes(), 'binary').equals(ca.certDer), true, 'our CA certificate');
  t.equal(bags[0]!.attributes.friendlyName?.[0], ca.subject.split('\n')[0]!.slice(3));
  t.equal(parsed.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!]?.length ?? 0, 0, 'no key bag');
  t.equal(parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]?.length ?? 0, 0, 'no shrouded key bag');
  t.throws(() => forge.pkcs12.pkcs12FromAsn1(asn, 'wrong'), /MAC/, 'the MAC is real');
  t.notMatch(p12.stdout.toString('binary'), /PRIVATE KEY/);

  const outFile = join(cwd, 'exported.der');
  const out = await runCli(['ca', 'export', '--format', 'der', '--out', outFile], { cwd });
  t.equal(out.code, 0);
  t.equal(out.stdout.length, 0, 'nothing on stdout with --out');
  t.same(readFileSync(outFile), ca.certDer, '--out writes the file');

  const info = await runCli(['ca', 'info'], { cwd });
  t.equal(info.code, 0);
  t.match(info.stdout.toString(), new RegExp(`sha256: +${ca.fingerprint256}`));
});

t.test('ca export errors', async (t) => {
  const cwd = t.testdir();
  const none = await runCli(['ca', 'export'], { cwd });
  t.equal(none.code, 1);
  t.match(none.stderr, /^wiretrail ca: no CA certificate at .*ca\.pem; .*wiretrail env.* creates it\n$/);
  t.notOk(existsSync(join(cwd, 'certs', 'ca.pem')), 'export never creates a CA');
  for (const args of [['ca'], ['ca', 'bogus'], ['ca', 'export', '--format', 'pkcs7'], ['ca', 'export', 'extra']]) {
    const r = await runCli(args, { cwd });
    t.equal(r.code, 2, args.join(' '));
  }
});

t.test('curl, Python, git and Node accept a leaf through the env settings and refuse it without them', async (t) => {
  const cwd = t.testdir();
  const env = await runCli(['env', '--certs', 'certs'], { cwd });
  t.equal(env.code, 0, 'env exit 0');
  const vars = await shEval(env.stdout.toString());
  const ca = await loadOrCreateCA({ certsDir: join(cwd, 'certs') });
  const ipLeaf = ca.leafFor('127.0.0.1');
  const seen: string[] = [];
  const server = createServer(
    { key: ipLeaf.keyPem, cert: ipLeaf.certPem, SNICallback: (name, cb) => cb(null, ca.contextFor(name)) },
    (req, res) => {
      seen.push(req.url ?? '');
      res.end('trusted');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const host = 'api.wiretrail-test.example';
  const base = { PATH: process.env.PATH, HOME: process.env.HOME };

  const cacert = await run('curl', ['-sS', '--cacert', vars.SSL_CERT_FILE!, '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], { env: base });
  t.equal(cacert.stdout, 'trusted', `curl --cacert bundle (${cacert.stderr.trim()})`);
  const viaEnv = await run('curl', ['-sS', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], { env: { ...base, CURL_CA_BUNDLE: vars.CURL_CA_BUNDLE } });
  t.equal(viaEnv.stdout, 'trusted', `curl with CURL_CA_BUNDLE (${viaEnv.stderr.trim()})`);
  const untrusted = await run('curl', ['-sS', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], { env: base });
  t.equal(untrusted.code, 60, 'curl without our CA refuses the certificate');

  const py = `import ssl, urllib.request\nprint(urllib.request.urlopen('https://127.0.0.1:${port}/', context=ssl.create_default_context()).read().decode())`;
  const pyOk = await run('python3', ['-c', py], { env: { ...base, SSL_CERT_FILE: vars.SSL_CERT_FILE } });
  t.equal(pyOk.stdout.trim(), 'trusted', `python ssl with SSL_CERT_FILE (${pyOk.stderr.trim().split('\n').pop()})`);
  const pyBad = await run('python3', ['-c', py], { env: base });
  t.not(pyBad.code, 0);
  t.match(pyBad.stderr, /CERTIFICATE_VERIFY_FAILED/);

  const req = `import requests\nprint(requests.get('https://127.0.0.1:${port}/', timeout=20).text)`;
  const reqOk = await run('python3', ['-c', req], { env: { ...base, REQUESTS_CA_BUNDLE: vars.REQUESTS_CA_BUNDLE } });
  t.equal(reqOk.stdout.trim(), 'trusted', `python requests with REQUESTS_CA_BUNDLE (${reqOk.stderr.trim().split('\n').pop()})`);

  // git verifies the certificate before it looks at the (non-git) answer.
  const gitUrl = `https://127.0.0.1:${port}/repo.git`;
  const gitEnv = { ...base, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const gitOk = await run('git', ['ls-remote', gitUrl], { env: { ...gitEnv, GIT_SSL_CAINFO: vars.GIT_SSL_CAINFO } });
  t.notMatch(gitOk.stderr, /certificate/i, 'git with GIT_SSL_CAINFO trusts the leaf');
  t.ok(seen.some((u) => u.startsWith('/repo.git/info/refs')), 'and sends its HTTP request');
  const gitBad = await run('git', ['ls-remote', gitUrl], { env: gitEnv });
  t.equal(gitBad.code, 128);
  t.match(gitBad.stderr, /certificate/i, 'git without it refuses (OpenSSL or GnuTLS wording)');

  const node = `const r = await fetch('https://127.0.0.1:${port}/'); process.stdout.write(await r.text());`;
  const nodeOk = await run(process.execPath, ['--input-type=module', '-e', node], { env: { ...base, NODE_EXTRA_CA_CERTS: vars.NODE_EXTRA_CA_CERTS } });
  t.equal(nodeOk.stdout, 'trusted', `node with NODE_EXTRA_CA_CERTS (${nodeOk.stderr.trim().split('\n').pop()})`);
});
