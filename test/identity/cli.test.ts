// `wiretrail tokens` and `wiretrail login` as seen from outside: exit codes, stdout, one-line stderr.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createAuthenticator, identityAdminRoutes } from '../../src/identity/index.js';
import { createAdminServer } from '../../src/admin/server.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic, bearer, policyOf, tempDir } from './helpers/env.js';
import { runCli, runCliHere } from './helpers/cli.js';

const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const dataDir = join(dir, 'data');
const policyYaml = `auth: required
oidc:
  issuers:
    - issuer: ${issuer.issuer}
      audience: wiretrail
      jwks_uri: ${issuer.jwksUri}
tokens:
  default_ttl_seconds: 900
  max_ttl_seconds: 3600
`;
const policyFile = join(dir, 'policy.yaml');
writeFileSync(policyFile, policyYaml);
// The running proxy's identity service and admin API.
const auth = await createAuthenticator({ policy: policyOf({ auth: 'required', oidc: { issuers: [{ issuer: issuer.issuer, audience: 'wiretrail', jwks_uri: issuer.jwksUri }] }, tokens: { default_ttl_seconds: 900, max_ttl_seconds: 3600 } }), dataDir });
const adminToken = 'wta_cli_test_token';
const admin = createAdminServer({ token: adminToken, routes: identityAdminRoutes(auth), logger: pino({ level: 'silent' }), health: () => ({ ok: true }) });
const adminUrl = `http://127.0.0.1:${(await admin.listen(0, '127.0.0.1')).port}`;
t.teardown(async () => {
  await admin.close();
  await auth.close();
});

t.test('tokens on the data folder while the proxy runs', async (t) => {
  const created = await runCli(['tokens', 'create', '--data', dataDir, '--name', 'build-box', '--groups', 'ml,ci', '--ttl', '2h']);
  t.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  t.match(token, /^wt_[A-Za-z0-9_-]{43}$/);
  t.match(created.stderr, /created static token [0-9a-f]{12} \(build-box\), expires in 2h/);
  const id = await auth.authenticate(basic('wt', token));
  t.ok(id.ok && id.identity.subject === 'token:build-box' && id.identity.groups.join() === 'ml,ci', 'the running proxy accepts it at once');

  const list = await runCliHere(['tokens', 'list', '--data', dataDir]);
  t.equal(list.code, 0);
  t.match(list.stdout, /^ID\s+KIND\s+STATUS\s+NAME/);
  t.match(list.stdout, /static\s+active\s+build-box\s+token:build-box\s+ml,ci/);
  t.notOk(list.stdout.includes(token));
  const json = JSON.parse((await runCliHere(['tokens', 'list', '--data', dataDir, '--json'])).stdout) as { id: string; name: string }[];
  const tokenId = json.find((x) => x.name === 'build-box')!.id;

  const revoked = await runCliHere(['tokens', 'revoke', tokenId, '--data', dataDir]);
  t.equal(revoked.code, 0, revoked.stderr);
  t.equal(revoked.stdout, `revoked ${tokenId} (build-box)\n`);
  if (id.ok) t.same(await auth.recheck(id.identity), { ok: false, reason: 'credential revoked' }, 'the proxy sees the revocation on the next request');

  const unknown = await runCliHere(['tokens', 'revoke', 'abcdefabcdef', '--data', dataDir]);
  t.equal(unknown.code, 1);
  t.equal(unknown.stderr, 'wiretrail tokens: no token with id abcdefabcdef\n');
  t.equal((await runCliHere(['tokens', 'revoke', 'nope', '--data', dataDir])).code, 2);
  t.equal((await runCliHere(['tokens', 'create', '--data', dataDir])).code, 2, 'create needs --name');
  t.equal((await runCliHere(['tokens', 'frobnicate'])).code, 2);
  t.equal((await runCliHere(['tokens', 'create', '--name', 'x', '--ttl', 'later', '--data', dataDir])).code, 2);
});

t.test('tokens through the admin API', async (t) => {
  const created = await runCliHere(['tokens', 'create', '--admin', adminUrl, '--name', 'remote-box', '--json'], { WIRETRAIL_ADMIN_TOKEN: adminToken });
  t.equal(created.code, 0, created.stderr);
  const out = JSON.parse(created.stdout) as { token: string; id: string; subject: string };
  t.equal(out.subject, 'token:remote-box');
  t.ok((await auth.authenticate(bearer(out.token))).ok);
  const list = await runCliHere(['tokens', 'list', '--admin', adminUrl], { WIRETRAIL_ADMIN_TOKEN: adminToken });
  t.match(list.stdout, new RegExp(`${out.id}\\s+static\\s+active\\s+remote-box`));
  const revoked = await runCliHere(['tokens', 'revoke', out.id, '--admin', adminUrl], { WIRETRAIL_ADMIN_TOKEN: adminToken });
  t.equal(revoked.code, 0, revoked.stderr);
  t.same(await auth.authenticate(bearer(out.token)), { ok: false, reason: 'credential revoked' });
  const noToken = await runCliHere(['tokens', 'list', '--admin', adminUrl, '--certs', join(dir, 'nocerts')], { WIRETRAIL_ADMIN_TOKEN: undefined });
  t.equal(noToken.code, 1);
  t.match(noToken.stderr, /no admin token/);
  const wrong = await runCliHere(['tokens', 'list', '--admin', adminUrl], { WIRETRAIL_ADMIN_TOKEN: 'wrong' });
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /401: admin token required/);
});

t.test('login exchanges an OIDC token and prints the proxy line', async (t) => {
  const oidc = await issuer.sign({ ...GITHUB_CLAIMS });
  const r = await runCli(['login', '--oidc-token', oidc, '--ttl', '30m', '--admin', adminUrl, '--proxy', '127.0.0.1:8080']);
  t.equal(r.code, 0, r.stderr);
  const m = /^WIRETRAIL_TOKEN=(wt_\S+)\nHTTPS_PROXY=http:\/\/wt:(wt_\S+)@127\.0\.0\.1:8080\n$/.exec(r.stdout);
  t.ok(m, r.stdout);
  t.equal(m?.[1], m?.[2]);
  t.match(r.stderr, /credential [0-9a-f]{12} for repo:acme\/app:ref:refs\/heads\/main, expires /);
  const id = await auth.authenticate(basic('wt', m![1]!));
  t.ok(id.ok && id.identity.attributes.repository === 'acme/app');
  t.ok(id.ok && id.identity.expiresAt! - Date.now() > 29 * 60_000 && id.identity.expiresAt! - Date.now() <= 30 * 60_000);

  // From a file and from stdin; --token-only.
  const f = join(dir, 'id-token');
  writeFileSync(f, oidc + '\n');
  const fromFile = await runCliHere(['login', '--oidc-token', '@' + f, '--admin', adminUrl, '--token-only']);
  t.match(fromFile.stdout, /^wt_\S+\n$/);
  const fromStdin = await runCli(['login', '--oidc-token', '-', '--admin', adminUrl, '--user', 'ci'], { stdin: oidc });
  t.match(fromStdin.stdout, /HTTPS_PROXY=http:\/\/ci:wt_\S+@127\.0\.0\.1:8080\n/, 'proxy host defaults to the admin host, port 8080');

  const bad = await runCliHere(['login', '--oidc-token', await issuer.sign({ aud: 'other' }), '--admin', adminUrl]);
  t.equal(bad.code, 1);
  t.equal(bad.stderr, 'wiretrail login: token exchange refused: admin API /v1/token: 401: bad audience\n');
  const tooLong = await runCliHere(['login', '--oidc-token', oidc, '--ttl', '2h', '--admin', adminUrl]);
  t.equal(tooLong.code, 1);
  t.match(tooLong.stderr, /exceeds the policy maximum of 3600s/);
  t.equal((await runCliHere(['login', '--admin', adminUrl])).code, 2, '--oidc-token is required');
});

t.test('login directly on the data folder with the policy', async (t) => {
  const r = await runCliHere(['login', '--oidc-token', await issuer.sign(), '--data', dataDir, '--policy', policyFile, '--proxy', 'proxy.internal:3128']);
  t.equal(r.code, 0, r.stderr);
  const m = /HTTPS_PROXY=http:\/\/wt:(wt_\S+)@proxy\.internal:3128/.exec(r.stdout);
  t.ok(m);
  t.ok((await auth.authenticate(bearer(m![1]!))).ok, 'the running proxy accepts a credential written by another process');
});
