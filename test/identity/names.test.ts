// Exchanged credential names: control and bidi characters are refused (requested name) or stripped
// (name defaulted from the token's subject) at creation, bounded in length, and escaped in `tokens list`.
import t from 'tap';
import { join } from 'node:path';
import { createAuthenticator, identityAdminRoutes, TokenStore, printable } from '../../src/identity/index.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { policyOf, tempDir } from './helpers/env.js';
import { runCliHere } from './helpers/cli.js';

const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const dataDir = join(dir, 'data');
const auth = await createAuthenticator({
  policy: policyOf({ auth: 'required', oidc: { issuers: [{ issuer: issuer.issuer, audience: 'wiretrail', jwks_uri: issuer.jwksUri }] } }),
  dataDir,
});
t.teardown(() => auth.close());

t.test('a requested name with control characters is refused; none is stored', async (t) => {
  const oidc = await issuer.sign({ ...GITHUB_CLAIMS });
  for (const name of ['job\x1b[2J\x1b[Hrevoked', 'a\rb', 'tab\there', 'nul\0', 'rtl\u202etxt.exe', 'c1\u009b31m', 'line\u2028sep', ' ', 'x'.repeat(129)]) {
    await t.rejects(auth.exchange(oidc, { name }), { message: /name/, status: 400 }, printable(name).slice(0, 40));
  }
  t.equal((await auth.list()).length, 0);
  const ok = await auth.exchange(oidc, { name: 'job 4242 — nightly ✓' });
  t.equal(ok.info.name, 'job 4242 — nightly ✓', 'printable Unicode and spaces are fine');
  t.equal((await auth.exchange(oidc, { name: 'ü'.repeat(128) })).info.name.length, 128, '128 characters, not bytes');
});

t.test('the subject default is cleaned and bounded', async (t) => {
  const oidc = await issuer.sign({ ...GITHUB_CLAIMS, sub: `repo:acme/app\x1b]0;pwned\x07:ref:${'r'.repeat(300)}` });
  const out = await auth.exchange(oidc);
  t.equal(out.info.name, `repo:acme/app]0;pwned:ref:${'r'.repeat(300)}`.slice(0, 128));
  t.notMatch(out.info.name, /[\x00-\x1f]/);
  const blank = await auth.exchange(await issuer.sign({ ...GITHUB_CLAIMS, sub: '\x1b\x07' }));
  t.equal(blank.info.name, 'oidc');
});

t.test('the admin API answers 400 for an unsafe name', async (t) => {
  const route = identityAdminRoutes(auth).find((r) => r.path === '/v1/token')!;
  const { createAdminServer } = await import('../../src/admin/server.js');
  const { pino } = await import('pino');
  const admin = createAdminServer({ token: 'wta_x', routes: [route], logger: pino({ level: 'silent' }), health: () => ({ ok: true }) });
  const { port } = await admin.listen(0, '127.0.0.1');
  t.teardown(() => admin.close());
  const res = await fetch(`http://127.0.0.1:${port}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: await issuer.sign({ ...GITHUB_CLAIMS }), name: 'a\x1b[31mb' }) });
  t.equal(res.status, 400);
  t.match(((await res.json()) as { error: string }).error, /control or bidirectional-override characters/);
});

t.test('tokens list escapes names, subjects and groups written before the check existed', async (t) => {
  const store = await TokenStore.open(dataDir);
  await store.issue({ kind: 'exchanged', name: 'old\x1b[2Jname\r', identity: { subject: 'sub\x1b[31m', groups: ['g\u202e1'], attributes: {} }, ttlSeconds: 600 });
  const r = await runCliHere(['tokens', 'list', '--data', dataDir]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, /[\x00-\x09\x0b-\x1f\u202e]/, 'no raw control characters reach the terminal');
  t.match(r.stdout, 'old\\u001b[2Jname\\u000d');
  t.match(r.stdout, 'sub\\u001b[31m');
  t.match(r.stdout, 'g\\u202e1');
  const json = await runCliHere(['tokens', 'list', '--data', dataDir, '--json']);
  t.ok((JSON.parse(json.stdout) as { name: string }[]).some((x) => x.name === 'old\x1b[2Jname\r'), '--json keeps the exact value (JSON escapes it)');
  t.equal(printable('plain-name'), 'plain-name');
});
