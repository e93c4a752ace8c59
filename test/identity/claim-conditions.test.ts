// Per-issuer required claims: a token from GitHub Actions' shared issuer whose repository_owner is
// not ours is refused at token exchange and on the proxy path; a multi-tenant issuer without an
// owner pin is a start error.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuthenticator } from '../../src/identity/index.js';
import { requireOwnerPinned } from '../../src/identity/multi-tenant.js';
import { compileConditions, unmetCondition } from '../../src/identity/claim-conditions.js';
import { startHarness } from '../helpers/harness.js';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { rawExchange } from '../helpers/raw.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic, policyOf, tempDir } from './helpers/env.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
// The test issuer's keys stand in for GitHub's (a local JWKS file: no network), tokens carry GitHub's iss.
const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const jwksFile = join(dir, 'github-jwks.json');
writeFileSync(jwksFile, JSON.stringify(issuer.jwks()));
const github = (claims: Record<string, unknown>) => issuer.sign({ ...GITHUB_CLAIMS, iss: GITHUB, ...claims });
const EVIL = { repository_owner: 'evil-org', repository: 'evil-org/fork', sub: 'repo:evil-org/fork:ref:refs/heads/main' };

const issuerSpec = (required?: Record<string, string | string[]>) => ({ issuer: GITHUB, audience: 'wiretrail', jwks_file: jwksFile, ...(required ? { required_claims: required } : {}) });

t.test('a multi-tenant issuer without an owner pin does not start', async (t) => {
  const unpinned: (Record<string, string | string[]> | undefined)[] = [undefined, { environment: 'prod' }, { repository_owner: 'acme*' }, { repository: '*/app' }, { sub: 'repo:*' }, { repository_owner: ['acme', '*'] }];
  for (const required of unpinned) {
    await t.rejects(
      createAuthenticator({ policy: policyOf({ auth: 'required', oidc: { issuers: [issuerSpec(required)] } }), dataDir: join(dir, 'd0') }),
      /oidc\.issuers\[0\] \(https:\/\/token\.actions\.githubusercontent\.com\): GitHub Actions \(every repository on github\.com\) is a multi-tenant issuer: .*required_claims: \{ repository_owner: your-org \}/,
      JSON.stringify(required ?? null),
    );
  }
  const pinned: Record<string, string | string[]>[] = [{ repository_owner: 'acme' }, { repository: 'acme/*' }, { sub: 'repo:acme/*' }, { repository_owner_id: '12345' }, { repository: ['acme/app', 'acme/lib'] }];
  for (const required of pinned) {
    t.doesNotThrow(() => requireOwnerPinned(GITHUB, required), JSON.stringify(required));
  }
  t.throws(() => requireOwnerPinned('https://gitlab.com', { project_path: '*' }), /GitLab\.com/);
  t.doesNotThrow(() => requireOwnerPinned('https://gitlab.com', { namespace_path: 'acme' }));
  t.throws(() => requireOwnerPinned('https://oidc.circleci.com', {}), /CircleCI/);
  t.doesNotThrow(() => requireOwnerPinned('https://oidc.circleci.com/org/0b1c2d3e-1111-2222-3333-444455556666', {}), 'the org is in the issuer URL');
  t.throws(() => requireOwnerPinned('https://accounts.google.com', { email: '*@*' }), /Google/);
  t.doesNotThrow(() => requireOwnerPinned('https://accounts.google.com', { hd: 'acme.example' }));
  t.doesNotThrow(() => requireOwnerPinned('https://idp.corp.example', undefined), 'a single-tenant issuer needs no pin');
});

t.test('conditions: exact, glob, any of, nested and array claims, missing claim', async (t) => {
  const c = compileConditions({ repository_owner: 'acme', repository: 'acme/*', environment: ['prod', 'staging'], 'org.team': 'ml-?', groups: 'admins' });
  const base = { repository_owner: 'acme', repository: 'acme/app', environment: 'prod', org: { team: 'ml-1' }, groups: ['dev', 'admins'] };
  t.equal(unmetCondition(base, c), null);
  t.equal(unmetCondition({ ...base, repository_owner: 'acme-evil' }, c), 'repository_owner', 'exact means exact');
  t.equal(unmetCondition({ ...base, repository: 'evil/acme/app' }, c), 'repository', 'glob anchored at both ends');
  t.equal(unmetCondition({ ...base, environment: 'dev' }, c), 'environment');
  t.equal(unmetCondition({ ...base, org: { team: 'ml-12' } }, c), 'org.team', '? is one character');
  t.equal(unmetCondition({ ...base, groups: ['dev'] }, c), 'groups');
  const { environment: _e, ...noEnv } = base;
  t.equal(unmetCondition(noEnv, c), 'environment', 'a missing claim fails');
  t.equal(unmetCondition({ ...base, repository: 'acme/a.b' }, compileConditions({ repository: 'acme/a.b' })), null);
  t.equal(unmetCondition({ ...base, repository: 'acme/aXb' }, compileConditions({ repository: 'acme/a.b' })), 'repository', 'regex characters are literal');
});

t.test('exchange and the authenticator refuse another owner\'s token', async (t) => {
  const auth = await createAuthenticator({
    policy: policyOf({ auth: 'required', oidc: { issuers: [issuerSpec({ repository_owner: 'acme', environment: ['prod', 'staging'] })] } }),
    dataDir: join(dir, 'd1'),
  });
  t.teardown(() => auth.close());
  const evil = await github(EVIL);
  await t.rejects(auth.exchange(evil), { message: 'claim repository_owner not allowed', status: 401 });
  t.same(await auth.authenticate(basic('oidc', evil)), { ok: false, reason: 'claim repository_owner not allowed' });
  t.same(await auth.authenticate(basic('oidc', await github({ environment: 'dev' }))), { ok: false, reason: 'claim environment not allowed' });
  t.equal((await auth.list()).length, 0, 'nothing was minted');
  const good = await github({});
  t.ok((await auth.authenticate(basic('oidc', good))).ok);
  t.equal((await auth.exchange(good)).info.identity.subject, GITHUB_CLAIMS.sub);
});

t.test('through the running proxy: CONNECT and POST /v1/token', async (t) => {
  const mock = await startMockUpstream({ handler: openaiHandler() });
  const policy = `egress: audit
auth: required
oidc:
  issuers:
    - issuer: ${GITHUB}
      audience: wiretrail
      jwks_file: ${jwksFile}
      required_claims:
        repository_owner: acme
`;
  const h = await startHarness({ policy, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`], admin: true });
  t.teardown(async () => {
    await h.stop();
    await mock.close();
  });
  const connect = async (jwt: string) => (await rawExchange(h.proxy.port, `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: ${basic('oidc', jwt)}\r\n\r\n`)).text;
  const refused = await connect(await github(EVIL));
  t.match(refused, /^HTTP\/1\.1 407 /);
  t.match(refused, /claim repository_owner not allowed/);
  t.match(await connect(await github({})), /^HTTP\/1\.1 200 /, 'our own organisation gets through');

  const exchange = (jwt: string) => fetch(`http://127.0.0.1:${h.admin!.port}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: jwt, ttl: '1h' }) });
  const ex = await exchange(await github(EVIL));
  t.equal(ex.status, 401);
  t.same(await ex.json(), { error: 'claim repository_owner not allowed' });
  t.equal((await exchange(await github({}))).status, 201);
});

t.test('a credential exchanged before the conditions were tightened stops working', async (t) => {
  const dataDir = join(dir, 'd3');
  const loose = await createAuthenticator({ policy: policyOf({ auth: 'required', oidc: { issuers: [issuerSpec({ repository_owner: ['acme', 'evil-org'] })] } }), dataDir });
  const evilCred = (await loose.exchange(await github(EVIL))).token;
  const ourCred = (await loose.exchange(await github({}))).token;
  t.ok((await loose.authenticate(basic('wt', evilCred))).ok, 'allowed while the config allowed it');
  await loose.close();
  // A credential minted by a version that kept no claims (the 24 h credential of the original report).
  const { TokenStore } = await import('../../src/identity/index.js');
  const store = await TokenStore.open(dataDir);
  const legacy = await store.issue({ kind: 'exchanged', name: 'legacy', identity: { subject: EVIL.sub, groups: [], issuer: GITHUB, attributes: { repository: EVIL.repository } }, ttlSeconds: 86400 });

  const strict = await createAuthenticator({ policy: policyOf({ auth: 'required', oidc: { issuers: [issuerSpec({ repository_owner: 'acme' })] } }), dataDir });
  t.teardown(() => strict.close());
  t.same(await strict.authenticate(basic('wt', evilCred)), { ok: false, reason: 'claim repository_owner not allowed' });
  t.same(await strict.authenticate(basic('wt', legacy.token)), { ok: false, reason: 'claim repository_owner not allowed' }, 'no kept claims: refused (fail closed)');
  t.ok((await strict.authenticate(basic('wt', ourCred))).ok, 'our own credential keeps working');
});
