// The admin API as a hostile web page sees it: DNS rebinding (a foreign Host on the loopback port),
// cross-site text/plain and form POSTs, foreign Origins. And the names it answers to by default.
import t from 'tap';
import http from 'node:http';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { createAuthenticator, identityAdminRoutes } from '../../src/identity/index.js';
import { createAdminServer } from '../../src/admin/server.js';
import { allowedHostNames, hostName } from '../../src/admin/guard.js';
import { TestIssuer, GITHUB_CLAIMS } from '../identity/helpers/oidc-issuer.js';
import { policyOf, tempDir } from '../identity/helpers/env.js';

const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const auth = await createAuthenticator({
  policy: policyOf({ auth: 'required', oidc: { issuers: [{ issuer: issuer.issuer, audience: 'wiretrail', jwks_uri: issuer.jwksUri }] } }),
  dataDir: join(dir, 'data'),
});
t.teardown(() => auth.close());
const adminToken = 'wta_guard_test_token';
const lines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
const admin = createAdminServer({ token: adminToken, routes: identityAdminRoutes(auth), logger, health: () => ({ ok: true }), allowedHosts: ['wiretrail.internal'] });
const { port } = await admin.listen(0, '127.0.0.1');
t.teardown(() => admin.close());

/** A raw request so Host, Origin and Content-Type are exactly what a browser could send. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const tokenCount = async () => (await auth.list()).length;

t.test('DNS rebinding: a foreign Host is refused on every route, before authentication', async (t) => {
  for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost.:${port}`.replace('localhost.', 'evil.localhost')]) {
    const list = await send('GET', '/v1/tokens', { host, authorization: `Bearer ${adminToken}` });
    t.equal(list.status, 403, `GET /v1/tokens with Host ${host}`);
    t.match(list.json.error, /is not an admin API name/);
    t.equal((await send('GET', '/healthz', { host })).status, 403, 'health too');
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, 'localhost', `wiretrail.internal:${port}`]) {
    t.equal((await send('GET', '/v1/tokens', { host, authorization: `Bearer ${adminToken}` })).status, 200, `Host ${host} is ours`);
  }
  t.ok(lines.some((l) => l.msg === 'admin request refused' && l.host === `attacker.example:${port}` && l.status === 403), 'refusals are logged');
});

t.test('cross-site POST /v1/token with a valid ID token mints nothing', async (t) => {
  const oidc = await issuer.sign({ ...GITHUB_CLAIMS });
  const before = await tokenCount();
  // What a page can send without a CORS preflight: text/plain, form, multipart, or no type at all.
  const simple: Record<string, string>[] = [
    { 'content-type': 'text/plain', origin: 'https://attacker.example' },
    { 'content-type': 'text/plain;charset=UTF-8' },
    { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
    { 'content-type': 'multipart/form-data; boundary=x' },
    {},
  ];
  for (const h of simple) {
    const r = await send('POST', '/v1/token', h, JSON.stringify({ token: oidc }));
    t.equal(r.status, h.origin ? 403 : 415, `refused: ${JSON.stringify(h)}`);
  }
  const foreign = await send('POST', '/v1/token', { 'content-type': 'application/json', origin: 'https://attacker.example' }, JSON.stringify({ token: oidc }));
  t.equal(foreign.status, 403, 'JSON from a foreign Origin');
  t.match(foreign.json.error, /cross-origin request refused/);
  t.equal((await send('POST', '/v1/token', { 'content-type': 'application/json', origin: 'null' }, JSON.stringify({ token: oidc }))).status, 403, 'Origin: null (sandboxed frame)');
  t.equal((await send('POST', '/v1/token', { 'content-type': 'application/json', origin: `http://127.0.0.1.attacker.example:${port}` }, JSON.stringify({ token: oidc }))).status, 403);
  t.equal(await tokenCount(), before, 'no credential was minted');

  const own = await send('POST', '/v1/token', { 'content-type': 'application/json; charset=utf-8', origin: `http://localhost:${port}` }, JSON.stringify({ token: oidc }));
  t.equal(own.status, 201, 'same-origin JSON is fine');
  t.equal((await send('POST', '/v1/token', { 'content-type': 'application/json' }, JSON.stringify({ token: oidc }))).status, 201, 'and so is a CLI without Origin');
  t.equal(await tokenCount(), before + 2);
});

t.test('every state-changing route needs JSON: admin routes too', async (t) => {
  const authz = `Bearer ${adminToken}`;
  t.equal((await send('POST', '/v1/tokens', { authorization: authz, 'content-type': 'text/plain' }, JSON.stringify({ name: 'x' }))).status, 415);
  const created = await send('POST', '/v1/tokens', { authorization: authz, 'content-type': 'application/json' }, JSON.stringify({ name: 'guarded' }));
  t.equal(created.status, 201);
  t.equal((await send('DELETE', `/v1/tokens/${created.json.id as string}`, { authorization: authz })).status, 415, 'DELETE without a JSON type');
  t.equal((await send('DELETE', `/v1/tokens/${created.json.id as string}`, { authorization: authz, 'content-type': 'application/json', origin: 'https://attacker.example' })).status, 403);
  t.equal((await send('DELETE', `/v1/tokens/${created.json.id as string}`, { authorization: authz, 'content-type': 'application/json' })).status, 200);
});

t.test('default names: loopback, the bind address, every interface address for a wildcard bind', async (t) => {
  t.same([...allowedHostNames('127.0.0.1')].sort(), ['127.0.0.1', '::1', 'localhost']);
  t.ok(allowedHostNames('10.1.2.3').has('10.1.2.3'));
  t.ok(allowedHostNames('[fd00::1]').has('fd00::1'));
  const wild = allowedHostNames('0.0.0.0', ['Admin.Example.']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) t.ok(wild.has(a.address.toLowerCase()), a.address);
  t.ok(wild.has('admin.example'), 'configured names, case and trailing dot folded');
  t.equal(hostName('[::1]:8081'), '::1');
  t.equal(hostName('a.b:1:2'), null, 'malformed');
  t.equal(hostName('user@evil:80'), null);
});

t.test('listening beyond loopback logs a warning; loopback does not', async (t) => {
  const warned = (host: string) => lines.some((l) => l.msg?.toString().startsWith('the admin API listens beyond loopback') && l.admin === host);
  t.notOk(warned('127.0.0.1'));
  // Only loopback addresses are bound in tests: 127.0.0.2 is loopback (no warning)…
  const a = createAdminServer({ token: adminToken, routes: [], logger, health: () => ({ ok: true }) });
  await a.listen(0, '127.0.0.2').catch(() => undefined);
  await a.close();
  t.notOk(warned('127.0.0.2'));
  // …and a non-loopback address is refused by the kernel here (not ours), after the warning was logged.
  const b = createAdminServer({ token: adminToken, routes: [], logger, health: () => ({ ok: true }) });
  await b.listen(0, '192.0.2.1').catch(() => undefined);
  await b.close();
  t.ok(warned('192.0.2.1'), 'warned for a non-loopback bind address');
});
