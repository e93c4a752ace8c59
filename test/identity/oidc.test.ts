import t from 'tap';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64url } from 'jose';
import { createAuthenticator, type Identity } from '../../src/identity/index.js';
import { makeTestPki } from './helpers/test-ca.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic, bearer, policyOf, tempDir } from './helpers/env.js';

const pki = makeTestPki();
const dir = tempDir(t);
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, pki.caPem);

const https = await TestIssuer.start({ tls: pki });
const plain = await TestIssuer.start();
await https.addKey('k2', 'RS256', false); // signs tokens before it is published (rotation)
await https.addKey('ec1', 'ES256', true);
const fileKeys = await TestIssuer.start(); // only its keys are used, through a JWKS file
const jwksFile = join(dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify(fileKeys.jwks()));
const FILE_ISSUER = 'https://file-issuer.example.com';
t.teardown(() => Promise.all([https.close(), plain.close(), fileKeys.close()]));

const policy = policyOf({
  auth: 'required',
  oidc: {
    clock_skew_seconds: 60,
    issuers: [
      { issuer: https.issuer, audience: 'wiretrail', ca_file: caFile, groups_claim: 'realm_access.roles' },
      { issuer: plain.issuer, audience: ['other', 'wiretrail'], jwks_uri: plain.jwksUri, algorithms: ['RS256'] },
      { issuer: FILE_ISSUER, audience: 'wiretrail', jwks_file: jwksFile },
    ],
    claims: { environment: 'environment', owner: 'repository_owner' },
  },
});
const auth = await createAuthenticator({ policy, dataDir: join(dir, 'data'), oidc: { jwksCooldownMs: 0 } });
t.teardown(() => auth.close());

async function reason(header: string | undefined): Promise<string> {
  const r = await auth.authenticate(header);
  return r.ok ? 'ok' : r.reason;
}

t.test('a valid token authenticates with identity and mapped claims', async (t) => {
  const token = await https.sign({ ...GITHUB_CLAIMS, email: 'octo@example.com', realm_access: { roles: ['dev', 'ml'] } });
  const r = await auth.authenticate(basic('oidc', token));
  t.ok(r.ok);
  if (!r.ok) return;
  const id: Identity = r.identity;
  t.equal(id.kind, 'oidc');
  t.equal(id.subject, GITHUB_CLAIMS.sub);
  t.equal(id.issuer, https.issuer);
  t.equal(id.email, 'octo@example.com');
  t.same(id.groups, ['dev', 'ml']);
  t.same(id.attributes, {
    repository: 'acme/app',
    ref: 'refs/heads/main',
    sha: GITHUB_CLAIMS.sha,
    run_id: '4242',
    workflow: 'ci',
    actor: 'octocat',
    environment: 'prod',
    owner: 'acme',
  });
  t.ok(id.expiresAt! > Date.now() + 500_000 && id.expiresAt! <= Date.now() + 600_000);
  t.equal(https.hits.discovery, 1, 'discovery fetched once');
  t.equal(await reason(bearer(token)), 'ok', 'Bearer works too');
  t.equal(await reason(basic(token, '')), 'ok', 'token as the user part when there is no password');
  t.equal(https.hits.discovery, 1, 'discovery is cached');
});

t.test('GitLab claims map by default; numbers become strings', async (t) => {
  const token = await https.sign({ sub: 'project_path:grp/proj:ref_type:branch:ref:main', project_path: 'grp/proj', pipeline_id: 991, sha: 'abc', user_login: 'dev1' });
  const r = await auth.authenticate(bearer(token));
  t.ok(r.ok);
  if (r.ok) t.same(r.identity.attributes, { project_path: 'grp/proj', pipeline_id: '991', sha: 'abc', user_login: 'dev1' });
});

t.test('each bad token is refused with its own reason', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  t.equal(await reason(bearer(await https.sign({ iat: now - 4000, nbf: now - 4000, exp: now - 3600 }))), 'token expired');
  t.equal(await reason(bearer(await https.sign({ exp: now - 30 }))), 'ok', 'within the clock skew');
  t.equal(await reason(bearer(await https.sign({ nbf: now + 3600 }))), 'token not yet valid');
  t.equal(await reason(bearer(await https.sign({ aud: 'someone-else' }))), 'bad audience');
  t.equal(await reason(bearer(await https.sign({ iss: 'https://evil.example.com' }))), 'bad issuer');
  t.equal(await reason(bearer(await https.sign({}, { omit: ['exp'] }))), 'token has no expiry');
  t.equal(await reason(bearer(await https.sign({}, { omit: ['sub'] }))), 'token has no subject');

  // alg none: a valid-looking payload with no signature.
  const payload = base64url.encode(JSON.stringify({ iss: https.issuer, aud: 'wiretrail', sub: 'x', exp: now + 600 }));
  t.equal(await reason(bearer(`${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`)), 'algorithm not allowed');

  // HS256 "signed" with the issuer's public key (the classic key-confusion attack).
  const hsHeader = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'k1' }));
  const mac = createHmac('sha256', await https.publicKeyPem('k1')).update(`${hsHeader}.${payload}`).digest('base64url');
  t.equal(await reason(bearer(`${hsHeader}.${payload}.${mac}`)), 'algorithm not allowed');

  // Tampered payload: signature of the original claims, payload swapped for other claims.
  const good = await https.sign({ ...GITHUB_CLAIMS });
  const [h, , s] = good.split('.');
  const forged = base64url.encode(JSON.stringify({ ...JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()), sub: 'repo:acme/admin' }));
  t.equal(await reason(bearer(`${h}.${forged}.${s}`)), 'bad signature');

  // Algorithm allowed globally but not for this issuer.
  const plainEs = await TestIssuer.start();
  t.teardown(() => plainEs.close());
  await plainEs.addKey('e', 'ES256', true);
  t.equal(await reason(bearer(await plainEs.sign({ iss: plain.issuer }, { kid: 'e' }))), 'algorithm not allowed');

  t.equal(await reason(bearer('eyJhbGciOiJSUzI1NiJ9.notjson.sig')), 'malformed token');
  t.equal(await reason(bearer('random-opaque-string')), 'unknown credential');
  t.equal(await reason('Basic !!!'), 'malformed credentials');
  t.equal(await reason('Digest username="x"'), 'unsupported authorization scheme');
  t.equal(await reason(undefined), 'missing credentials');
  t.equal(await reason(''), 'missing credentials');
});

t.test('unknown kid is refused until the issuer publishes the key (JWKS refetched on unknown kid)', async (t) => {
  const token = await https.sign({}, { kid: 'k2' });
  const before = https.hits.jwks;
  t.equal(await reason(bearer(token)), 'unknown signing key');
  t.ok(https.hits.jwks > before, 'an unknown kid triggered a JWKS refetch');
  https.publish('k2');
  t.equal(await reason(bearer(token)), 'ok', 'valid after rotation');
});

t.test('ES256 keys, JWKS by URL over loopback http, and a local JWKS file', async (t) => {
  t.equal(await reason(bearer(await https.sign({}, { kid: 'ec1' }))), 'ok');
  t.equal(await reason(bearer(await plain.sign({ aud: 'other' }))), 'ok', 'any of the configured audiences');
  t.equal(plain.hits.discovery, 0, 'jwks_uri skips discovery');
  t.equal(await reason(bearer(await fileKeys.sign({ iss: FILE_ISSUER }))), 'ok');
  t.equal(await reason(bearer(await fileKeys.sign({ iss: FILE_ISSUER }, { kid: 'k1' }).then((x) => x.slice(0, -4) + 'AAAA'))), 'bad signature');
});

t.test('recheck: an oidc identity ends at exp (plus skew); anonymous only when auth is not required', async (t) => {
  const base: Identity = { kind: 'oidc', subject: 's', groups: [], attributes: {}, expiresAt: Date.now() + 60_000 };
  t.ok((await auth.recheck(base)).ok);
  t.same(await auth.recheck({ ...base, expiresAt: Date.now() - 61_000 }), { ok: false, reason: 'token expired' });
  t.same(await auth.recheck({ kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null }), { ok: false, reason: 'missing credentials' });
});

t.test('auth modes', async (t) => {
  const mk = async (mode: 'off' | 'optional') =>
    createAuthenticator({ policy: policyOf({ auth: mode, oidc: { issuers: [{ issuer: plain.issuer, audience: 'wiretrail', jwks_uri: plain.jwksUri }] } }), dataDir: join(dir, 'data-' + mode) });
  const optional = await mk('optional');
  const off = await mk('off');
  t.teardown(() => Promise.all([optional.close(), off.close()]));
  const anon = await optional.authenticate(undefined);
  t.ok(anon.ok && anon.identity.kind === 'anonymous', 'optional: no header is anonymous');
  t.same(await optional.authenticate(bearer(await plain.sign({ aud: 'nope' }))), { ok: false, reason: 'bad audience' }, 'optional: a present bad credential is refused');
  const good = await optional.authenticate(bearer(await plain.sign()));
  t.ok(good.ok && good.identity.kind === 'oidc');
  const offr = await off.authenticate(bearer('garbage'));
  t.ok(offr.ok && offr.identity.kind === 'anonymous', 'off: always anonymous');
});

t.test('issuer problems fail closed with a reason', async (t) => {
  // The TLS issuer without its CA: verification stays on, so keys cannot be fetched.
  const noCa = await createAuthenticator({
    policy: policyOf({ auth: 'required', oidc: { issuers: [{ issuer: https.issuer, audience: 'wiretrail' }] } }),
    dataDir: join(dir, 'data-noca'),
  });
  // Discovery names another issuer (configured with a trailing slash, document without).
  const mismatch = await createAuthenticator({
    policy: policyOf({ auth: 'required', oidc: { issuers: [{ issuer: plain.issuer + '/', audience: 'wiretrail' }] } }),
    dataDir: join(dir, 'data-mm'),
  });
  t.teardown(() => Promise.all([noCa.close(), mismatch.close()]));
  t.same(await noCa.authenticate(bearer(await https.sign())), { ok: false, reason: 'issuer unavailable' });
  t.same(await mismatch.authenticate(bearer(await plain.sign({ iss: plain.issuer + '/' }))), { ok: false, reason: 'issuer unavailable' });
});

t.test('bad oidc configuration is refused at load with the key named', async (t) => {
  const load = (issuer: Record<string, unknown>) =>
    createAuthenticator({ policy: policyOf({ oidc: { issuers: [{ issuer: 'https://idp.example.com', audience: 'a', ...issuer }] } }), dataDir: join(dir, 'data-bad') });
  await t.rejects(load({ algorithms: ['RS256', 'HS256'] }), /oidc\.issuers\[0\].*algorithm "HS256" is not allowed/);
  await t.rejects(load({ algorithms: ['none'] }), /algorithm "none" is not allowed/);
  await t.rejects(load({ jwks_uri: 'http://idp.example.com/jwks' }), /jwks_uri must use https/);
  await t.rejects(load({ jwks_uri: 'https://idp.example.com/jwks', jwks_file: jwksFile }), /either jwks_uri or jwks_file/);
  await t.rejects(load({ ca_file: join(dir, 'missing.pem') }), /ca_file .*missing\.pem cannot be read \(ENOENT\)/);
  await t.rejects(load({ jwks_file: caFile }), /jwks_file .* cannot be read as JSON/);
  await t.rejects(
    createAuthenticator({ policy: policyOf({ oidc: { issuers: [{ issuer: 'http://idp.example.com', audience: 'a' }] } }), dataDir: join(dir, 'd') }),
    /issuer \(for discovery\) must use https/,
  );
});
