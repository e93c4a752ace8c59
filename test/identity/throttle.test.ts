// Failed authentication is slowed down, then refused with 429 + Retry-After, per client address and
// per credential, on the proxy path, at token exchange and on the admin API, without letting an
// attacker lock out a valid user: other addresses keep working, the right credential always passes.
import t from 'tap';
import net from 'node:net';
import http from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import { createAuthenticator, identityAdminRoutes, FailureThrottle, addressKey } from '../../src/identity/index.js';
import { createAdminServer } from '../../src/admin/server.js';
import { startHarness } from '../helpers/harness.js';
import { allRecords } from '../helpers/records.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic, bearer, policyOf, tempDir } from './helpers/env.js';

const issuer = await TestIssuer.start();
t.teardown(() => issuer.close());
const dir = tempDir(t);
const policyDoc = { auth: 'required', oidc: { issuers: [{ issuer: issuer.issuer, audience: 'wiretrail', jwks_uri: issuer.jwksUri }] } };

t.test('FailureThrottle: free failures, growing delay, refusal, decay, bounded memory', async (t) => {
  let now = 0;
  const th = new FailureThrottle({ freeFailures: 3, blockAfter: 6, decayMs: 1000, maxDelayMs: 500, maxEntries: 100 }, () => now);
  const delays: number[] = [];
  const retries: (number | null)[] = [];
  for (let i = 0; i < 8; i++) {
    const v = th.fail('ip:1.2.3.4');
    delays.push(v.delayMs);
    retries.push(v.retryAfterSeconds);
  }
  t.same(delays, [0, 0, 0, 100, 200, 400, 500, 500], 'free, then doubling up to the cap');
  t.same(retries, [null, null, null, null, null, null, 1, 2], '429 once over the limit, Retry-After grows with the excess');
  t.equal(th.blocked('ip:1.2.3.4'), 2, 'refused before any check');
  t.equal(th.blocked('ip:5.6.7.8'), null, 'another key is not affected');
  now += 2500;
  t.equal(th.blocked('ip:1.2.3.4'), null, 'failures decay: allowed again after Retry-After');
  for (let i = 0; i < 1000; i++) th.fail(`ip:10.0.${i >> 8}.${i & 255}`);
  t.equal(th.size, 100, 'memory is bounded');
  t.equal(th.fail(null).delayMs, 0, 'no key, nothing counted');
});

t.test('address keys: IPv4, IPv4-mapped, IPv6 by /64', async (t) => {
  t.equal(addressKey('127.0.0.1'), 'ip:127.0.0.1');
  t.equal(addressKey('::ffff:10.1.2.3'), 'ip:10.1.2.3');
  t.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), 'one /64, one budget');
  t.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  t.equal(addressKey('::1'), 'ip6:0:0:0:0::/64');
  t.equal(addressKey(undefined), null);
});

t.test('identity service: per address, per credential, exchange', async (t) => {
  const auth = await createAuthenticator({ policy: policyOf(policyDoc), dataDir: join(dir, 'd1'), throttle: { freeFailures: 2, blockAfter: 4, maxDelayMs: 5, decayMs: 60_000 } });
  t.teardown(() => auth.close());
  const good = basic('oidc', await issuer.sign({ ...GITHUB_CLAIMS }));
  const wrong = basic('oidc', 'wt_' + 'x'.repeat(43));
  const attacker = { clientAddress: '10.9.9.9' };
  const outcomes = [];
  for (let i = 0; i < 6; i++) outcomes.push(await auth.authenticate(wrong, attacker));
  t.same(outcomes.map((o) => (o.ok ? 'ok' : o.retryAfterSeconds !== undefined ? 429 : o.reason)), ['unknown credential', 'unknown credential', 'unknown credential', 'unknown credential', 429, 429]);
  const blocked = await auth.authenticate(good, attacker);
  t.equal(blocked.ok, false, 'an address over the limit is refused before any check');
  t.ok(!blocked.ok && blocked.retryAfterSeconds! > 0);
  t.ok((await auth.authenticate(good, { clientAddress: '10.9.9.10' })).ok, 'another address is not affected');
  t.same(await auth.authenticate(wrong, { clientAddress: '10.9.9.10' }), { ok: false, reason: 'unknown credential' }, 'and is answered normally');
  t.same(await auth.authenticate(undefined, attacker).then((o) => o.ok), false);

  // One credential failing from many addresses (an expired token replayed): its failing attempts get 429…
  const now = Math.floor(Date.now() / 1000);
  const expired = basic('oidc', await issuer.sign({ ...GITHUB_CLAIMS, sub: 'repo:acme/victim', exp: now - 3600, iat: now - 4000, nbf: now - 4000 }));
  for (let i = 0; i < 5; i++) await auth.authenticate(expired, { clientAddress: `10.8.0.${i}` });
  const late = await auth.authenticate(expired, { clientAddress: '10.8.1.1' });
  t.ok(!late.ok && late.retryAfterSeconds !== undefined, 'failing attempts against that credential: 429 from a fresh address');
  // …but the same subject with a valid token passes from anywhere: the owner is never locked out.
  t.ok((await auth.authenticate(basic('oidc', await issuer.sign({ ...GITHUB_CLAIMS, sub: 'repo:acme/victim' })), { clientAddress: '10.8.1.2' })).ok);

  // Token exchange counts failures too and answers 429 with a Retry-After.
  const bad = await issuer.sign({ ...GITHUB_CLAIMS, aud: 'other' });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push(await auth.exchange(bad, { clientAddress: '10.7.7.7' }).then(() => 201, (e: { status: number }) => e.status));
  t.same(statuses, [401, 401, 401, 401, 429, 429]);
  await t.rejects(auth.exchange(await issuer.sign({ ...GITHUB_CLAIMS }), { clientAddress: '10.7.7.7' }), { message: /too many failed/, status: 429 });
  t.ok((await auth.exchange(await issuer.sign({ ...GITHUB_CLAIMS }), { clientAddress: '10.7.7.8' })).token);
  t.same(await auth.authenticate(bearer('garbage'), {}), { ok: false, reason: 'unknown credential' }, 'no address: nothing counted');
});

/** A CONNECT from a chosen loopback source address (127.0.0.0/8 all route to lo). */
function connectFrom(port: number, localAddress: string, auth: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) s.destroy();
    });
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
    s.write(`CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: ${auth}\r\n\r\n`);
  });
}

t.test('through the running proxy: 429 + Retry-After, recorded, other addresses unaffected', async (t) => {
  const policy = `egress: audit\nauth: required\noidc:\n  issuers:\n    - issuer: ${issuer.issuer}\n      audience: wiretrail\n      jwks_uri: ${issuer.jwksUri}\n`;
  const h = await startHarness({ policy });
  t.teardown(() => h.stop());
  const wrong = basic('oidc', 'wt_' + 'y'.repeat(43));
  // 25 wrong credentials at once from 127.0.0.7: the slow-downs run in parallel, the excess is refused.
  const answers = await Promise.all(Array.from({ length: 25 }, () => connectFrom(h.proxy.port, '127.0.0.7', wrong)));
  const status = (a: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(a)?.[1]);
  const n407 = answers.filter((a) => status(a) === 407).length;
  // 20 exactly when the burst is quick; a loaded machine may let a failure decay (one per 3 s) first.
  t.ok(n407 >= 20 && n407 <= 22, `the first 20 failures: 407 (${n407})`);
  const throttled = answers.filter((a) => status(a) === 429);
  t.equal(throttled.length, 25 - n407, 'beyond: 429');
  t.match(throttled[0], /\r\nretry-after: \d+\r\n/i);
  t.match(throttled[0], /\r\nproxy-status: wiretrail; error=http_request_denied; details="proxy authentication refused: too many failed authentication attempts"/i);
  const good = basic('oidc', await issuer.sign({ ...GITHUB_CLAIMS }));
  t.match(await connectFrom(h.proxy.port, '127.0.0.7', good), /^HTTP\/1\.1 429 /, 'that address is refused before any check');
  t.match(await connectFrom(h.proxy.port, '127.0.0.8', good), /^HTTP\/1\.1 200 /, 'a valid user on another address is not');
  t.match(await connectFrom(h.proxy.port, '127.0.0.8', wrong), /^HTTP\/1\.1 407 /);
  const denies = (await allRecords(h)).filter((r) => r.kind === 'deny' && /too many failed authentication attempts/.test(JSON.stringify(r.meta)));
  t.ok(denies.length >= throttled.length + 1, `the 429s are recorded (${denies.length})`);
  t.ok(h.logs.some((l) => l.includes('repeated failed proxy credential authentication from one client')), 'and logged once');
  t.equal(h.logs.filter((l) => l.includes('repeated failed proxy credential authentication from one client')).length, 1, 'once, not per attempt');
});

t.test('admin API: wrong admin tokens are throttled; the right token always works', async (t) => {
  const auth = await createAuthenticator({ policy: policyOf(policyDoc), dataDir: join(dir, 'd2') });
  t.teardown(() => auth.close());
  const token = 'wta_right_admin_token';
  const admin = createAdminServer({ token, routes: identityAdminRoutes(auth), logger: pino({ level: 'silent' }), health: () => ({ ok: true }), throttle: { freeFailures: 2, blockAfter: 6, maxDelayMs: 5, decayMs: 60_000 } });
  const { port } = await admin.listen(0, '127.0.0.1');
  t.teardown(() => admin.close());
  const list = (from: string, authz: string) =>
    new Promise<{ status: number; retry: string | undefined }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/v1/tokens', localAddress: from, headers: { authorization: authz } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, retry: res.headers['retry-after'] });
        })
        .on('error', reject);
    });
  // 100 wrong tokens from one address: 401s, then 429s.
  const burst = [];
  for (let i = 0; i < 10; i++) burst.push((await list('127.0.0.20', `Bearer wrong-${i}`)).status);
  t.same(burst, [401, 401, 401, 401, 401, 401, 429, 429, 429, 429]);
  const refused = await list('127.0.0.20', `Bearer ${token}`);
  t.equal(refused.status, 429, 'that address is refused before the check');
  t.match(refused.retry, /^\d+$/);
  t.equal((await list('127.0.0.21', `Bearer ${token}`)).status, 200, 'the operator on another address is not');
  // The admin token is now over its own limit: failing attempts from fresh addresses get 429…
  t.equal((await list('127.0.0.22', 'Bearer wrong-again')).status, 429);
  // …and the right token still passes from any address that is not itself over the limit.
  t.equal((await list('127.0.0.22', `Bearer ${token}`)).status, 200);
  t.equal((await list('127.0.0.23', '')).status, 401, 'no token at all: plain 401, not counted');
});

t.test('admin UI login form: wrong tokens throttled per address like the API', async (t) => {
  const { createAdminUi, uiSourceFromLog } = await import('../../src/admin/ui/index.js');
  const { openAuditLog } = await import('../../src/audit/index.js');
  const log = await openAuditLog({ dataDir: join(dir, 'ui-data'), certsDir: join(dir, 'ui-certs'), logger: pino({ level: 'silent' }), origin: 'ui.test/log' });
  t.teardown(() => log.close());
  const token = 'wta_ui_admin_token';
  const ui = createAdminUi({ source: uiSourceFromLog(log), checkToken: (x) => x === token, approvals: false });
  const admin = createAdminServer({ token, routes: [], ui, logger: pino({ level: 'silent' }), health: () => ({ ok: true }), throttle: { freeFailures: 2, blockAfter: 4, maxDelayMs: 5, decayMs: 60_000 } });
  const { port } = await admin.listen(0, '127.0.0.1');
  t.teardown(() => admin.close());
  const login = (from: string, value: string) =>
    new Promise<number>((resolve, reject) => {
      const body = `token=${encodeURIComponent(value)}`;
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', localAddress: from, headers: { origin: `http://127.0.0.1:${port}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
  const got = [];
  for (let i = 0; i < 6; i++) got.push(await login('127.0.0.30', `guess-${i}`));
  t.same(got, [401, 401, 401, 401, 401, 429], 'refused once the address is over the limit');
  t.equal(await login('127.0.0.30', token), 429, 'even with the right token from that address');
  t.equal(await login('127.0.0.31', token), 303, 'another address logs in');
});
