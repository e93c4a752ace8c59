import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createAuthenticator, identityAdminRoutes, TokenStore, ExchangeError, hashCredential, type Identity } from '../../src/identity/index.js';
import { createAdminServer } from '../../src/admin/server.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic, bearer, policyOf, tempDir } from './helpers/env.js';

const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const dataDir = join(dir, 'data');
const policy = policyOf({
  auth: 'required',
  oidc: { issuers: [{ issuer: issuer.issuer, audience: 'wiretrail', jwks_uri: issuer.jwksUri }] },
  tokens: { default_ttl_seconds: 1800, max_ttl_seconds: 7200 },
});
const auth = await createAuthenticator({ policy, dataDir });
t.teardown(() => auth.close());

const identityOf = async (header: string): Promise<Identity> => {
  const r = await auth.authenticate(header);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.identity;
};

t.test('an OIDC token is exchanged for a wiretrail credential bound to its identity; only a hash is stored', async (t) => {
  const oidc = await issuer.sign({ ...GITHUB_CLAIMS, groups: ['ci'] });
  const { token, info } = await auth.exchange(oidc);
  t.match(token, /^wt_[A-Za-z0-9_-]{43}$/);
  t.equal(info.kind, 'exchanged');
  t.equal(info.status, 'active');
  t.ok(Math.abs(info.expiresAt! - (Date.now() + 1800_000)) < 5000, 'policy default TTL');
  const id = await identityOf(basic('wt', token));
  t.equal(id.kind, 'token');
  t.equal(id.subject, GITHUB_CLAIMS.sub);
  t.equal(id.issuer, issuer.issuer);
  t.equal(id.tokenId, info.id);
  t.same(id.groups, ['ci']);
  t.equal(id.attributes.repository, 'acme/app');
  t.equal(id.attributes.run_id, '4242');

  const file = join(dataDir, 'tokens.json');
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(token), 'the credential itself is not stored');
  t.notOk(text.includes(token.slice(3, 20)), 'no part of it either');
  t.ok(text.includes(hashCredential(token)), 'its SHA-256 is');
  t.notOk(text.includes(oidc.split('.')[2]!), 'the OIDC token is not stored');
  t.equal(statSync(file).mode & 0o777, 0o600);
});

t.test('TTL: shorter on request, never above the policy maximum, and expiry refuses', async (t) => {
  const oidc = await issuer.sign();
  await t.rejects(auth.exchange(oidc, { ttlSeconds: 7201 }), { message: /exceeds the policy maximum of 7200s/, status: 400 });
  const { token, info } = await auth.exchange(oidc, { ttlSeconds: 1 });
  const id = await identityOf(bearer(token));
  t.ok(info.expiresAt! <= Date.now() + 1000);
  await sleep(1100);
  t.same(await auth.authenticate(bearer(token)), { ok: false, reason: 'token expired' });
  t.same(await auth.recheck(id), { ok: false, reason: 'token expired' }, 'also on an open connection');
  t.equal((await auth.list()).find((x) => x.id === info.id)?.status, 'expired');
});

t.test('the exchange takes OIDC tokens only and reports why one is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  await t.rejects(auth.exchange(await issuer.sign({ exp: now - 3600, nbf: now - 4000, iat: now - 4000 })), { message: 'token expired', status: 401 });
  await t.rejects(auth.exchange(await issuer.sign({ aud: 'x' })), { message: 'bad audience' });
  const { token } = await auth.exchange(await issuer.sign());
  await t.rejects(auth.exchange(token), ExchangeError, 'a wiretrail credential cannot extend itself');
});

t.test('revocation by another process counts on the next request, also for an open connection', async (t) => {
  const { token, info } = await auth.exchange(await issuer.sign());
  const id = await identityOf(bearer(token));
  t.ok((await auth.recheck(id)).ok);
  // A second store on the same folder stands for `wiretrail tokens revoke --data DIR` while the proxy runs.
  const other = await TokenStore.open(dataDir);
  t.ok(await other.revoke(info.id));
  t.same(await auth.recheck(id), { ok: false, reason: 'credential revoked' });
  t.same(await auth.authenticate(bearer(token)), { ok: false, reason: 'credential revoked' });
  t.equal(await other.revoke('000000000000'), null);
});

t.test('static tokens: subject token:<name>, groups, optional TTL, same hashing', async (t) => {
  const { token, info } = await auth.createStatic({ name: 'build-box-1', groups: ['ml', 'ml', 'ci'] });
  t.equal(info.expiresAt, null);
  const id = await identityOf(basic('anything', token));
  t.equal(id.kind, 'token');
  t.equal(id.subject, 'token:build-box-1');
  t.same(id.groups, ['ml', 'ci']);
  t.equal(id.expiresAt, null);
  t.notOk(readFileSync(join(dataDir, 'tokens.json'), 'utf8').includes(token));
  await t.rejects(auth.createStatic({ name: 'bad name' }), /name:/);
  await t.rejects(auth.createStatic({ name: 'x', groups: ['a,b'] }), /not a valid group/);
  t.same(await auth.authenticate(bearer('wt_' + 'A'.repeat(43))), { ok: false, reason: 'unknown credential' });
  t.same(await auth.recheck({ ...id, tokenId: 'ffffffffffff' }), { ok: false, reason: 'unknown credential' });
});

t.test('concurrent writers in two stores lose nothing', async (t) => {
  const d = join(dir, 'concurrent');
  const [a, b] = await Promise.all([TokenStore.open(d), TokenStore.open(d)]);
  const identity = { subject: 's', groups: [], attributes: {} };
  const issued = await Promise.all(
    Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).issue({ kind: 'static', name: `m${i}`, identity, ttlSeconds: null })),
  );
  const listed = await (await TokenStore.open(d)).list();
  t.equal(listed.length, 24);
  t.same(new Set(listed.map((x) => x.id)), new Set(issued.map((x) => x.record.id)));
});

t.test('an unreadable store fails closed and recovers when fixed', async (t) => {
  const d = join(dir, 'corrupt');
  const a = await createAuthenticator({ policy, dataDir: d });
  t.teardown(() => a.close());
  const { token } = await a.createStatic({ name: 'm' });
  const file = join(d, 'tokens.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, '{"version":1,"tokens":[{');
  t.same(await a.authenticate(bearer(token)), { ok: false, reason: 'credential store unavailable' });
  writeFileSync(file, good);
  t.ok((await a.authenticate(bearer(token))).ok);
  writeFileSync(file, '{"version":1,"tokens":[{');
  await t.rejects(createAuthenticator({ policy, dataDir: d }), /tokens\.json is not valid JSON/, 'refused at start');
  writeFileSync(file, good);
});

t.test('admin API: exchange without the admin token, management with it', async (t) => {
  const adminToken = 'wta_test_admin_token';
  const server = createAdminServer({ token: adminToken, routes: identityAdminRoutes(auth), logger: pino({ level: 'silent' }), health: () => ({ ok: true }) });
  const addr = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${addr.port}`;
  const call = async (method: string, path: string, opts: { body?: unknown; authz?: string } = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(opts.authz ? { authorization: opts.authz } : {}), ...(method !== 'GET' ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const oidc = await issuer.sign({ ...GITHUB_CLAIMS });
  const ex = await call('POST', '/v1/token', { body: { token: oidc, ttl: '10m', name: 'job-4242' } });
  t.equal(ex.status, 201);
  t.match(ex.json.token, /^wt_/);
  t.equal(ex.json.name, 'job-4242');
  t.equal(ex.json.subject, GITHUB_CLAIMS.sub);
  t.ok(Math.abs(Date.parse(ex.json.expiresAt as string) - Date.now() - 600_000) < 5000);
  t.ok((await auth.authenticate(bearer(ex.json.token as string))).ok);

  const viaHeader = await call('POST', '/v1/token', { authz: bearer(oidc), body: { ttl: 60 } });
  t.equal(viaHeader.status, 201, 'OIDC token in the Authorization header');
  t.same((await call('POST', '/v1/token', { body: { token: await issuer.sign({ aud: 'x' }) } })).json, { error: 'bad audience' });
  t.equal((await call('POST', '/v1/token', { body: { token: oidc } })).status, 201);
  t.equal((await call('POST', '/v1/token', {})).status, 401);
  const tooLong = await call('POST', '/v1/token', { body: { token: oidc, ttl: '3h' } });
  t.equal(tooLong.status, 400);
  t.match(tooLong.json.error, /maximum/);
  t.equal((await call('POST', '/v1/token', { body: '{nope' })).status, 400);
  t.equal((await call('POST', '/v1/token', { body: { token: oidc, ttl: 'soon' } })).status, 400);

  t.equal((await call('GET', '/v1/tokens')).status, 401, 'listing needs the admin token');
  t.equal((await call('POST', '/v1/tokens', { body: { name: 'x' } })).status, 401);
  const created = await call('POST', '/v1/tokens', { authz: bearer(adminToken), body: { name: 'runner-7', groups: ['ci'], ttl: '1d' } });
  t.equal(created.status, 201);
  t.equal(created.json.subject, 'token:runner-7');
  const list = await call('GET', '/v1/tokens', { authz: bearer(adminToken) });
  const tokens = list.json.tokens as Record<string, unknown>[];
  t.ok(tokens.some((x) => x.id === created.json.id && x.status === 'active'));
  const listText = JSON.stringify(list.json);
  t.notOk(listText.includes(created.json.token as string), 'listing never shows a credential');
  t.notOk(listText.includes('sha256'), 'nor its hash');

  const del = await call('DELETE', `/v1/tokens/${created.json.id}`, { authz: bearer(adminToken) });
  t.equal(del.status, 200);
  t.equal(del.json.status, 'revoked');
  t.same(await auth.authenticate(bearer(created.json.token as string)), { ok: false, reason: 'credential revoked' });
  t.equal((await call('DELETE', '/v1/tokens/aaaaaaaaaaaa', { authz: bearer(adminToken) })).status, 404);
  t.equal((await call('DELETE', '/v1/tokens/not-an-id', { authz: bearer(adminToken) })).status, 400);
});
