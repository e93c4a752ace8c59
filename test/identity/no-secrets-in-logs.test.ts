// Every identity code path that logs, driven at trace level: no token, credential or key in any line.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAuthenticator, identityAdminRoutes, upstreamCredential, ANONYMOUS } from '../../src/identity/index.js';
import { createAdminServer } from '../../src/admin/server.js';
import { TestIssuer } from './helpers/oidc-issuer.js';
import { basic, bearer, policyOf, tempDir } from './helpers/env.js';

t.test('no token or key value appears in any log line', async (t) => {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: 'trace' }, dest);
  const issuer = await TestIssuer.start();
  const down = await TestIssuer.start();
  await issuer.addKey('k9', 'RS256', false);
  await down.close(); // an issuer that is gone: discovery fails and is logged
  t.teardown(() => issuer.close());
  const dir = tempDir(t);
  const KEY = 'sk-proj-LOGTEST' + 'v8Kq2Zr7Wm4Xp9Ln'.repeat(3);
  process.env.WT_LOG_TEST_KEY = KEY;
  t.teardown(() => void delete process.env.WT_LOG_TEST_KEY);
  const policy = policyOf({
    auth: 'required',
    oidc: {
      issuers: [
        { issuer: issuer.issuer, audience: 'wiretrail' },
        { issuer: down.issuer, audience: 'wiretrail' },
      ],
    },
    hosts: { 'api.openai.com': { credentials: [{ header: 'authorization', value: 'Bearer ${env:WT_LOG_TEST_KEY}' }] } },
  });
  const auth = await createAuthenticator({ policy, dataDir: join(dir, 'data'), logger, oidc: { jwksCooldownMs: 0 } });
  const admin = createAdminServer({ token: 'wta_log_admin', routes: identityAdminRoutes(auth), logger, health: () => ({ ok: true }) });
  const base = `http://127.0.0.1:${(await admin.listen(0, '127.0.0.1')).port}`;
  t.teardown(async () => {
    await admin.close();
    await auth.close();
  });

  const secrets: string[] = [KEY, 'wta_log_admin'];
  const good = await issuer.sign();
  secrets.push(good);
  const now = Math.floor(Date.now() / 1000);
  const bad = [await issuer.sign({ aud: 'x' }), await issuer.sign({ exp: now - 4000, iat: now - 5000, nbf: now - 5000 }), await issuer.sign({}, { kid: 'k9' }), await down.sign()];
  secrets.push(...bad);
  for (const tok of [good, ...bad]) await auth.authenticate(basic('oidc', tok));
  await auth.authenticate(bearer('not-a-token-at-all-0123456789'));
  secrets.push('not-a-token-at-all-0123456789');

  const exchanged = await fetch(`${base}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: good, ttl: '5m' }) });
  const wt = ((await exchanged.json()) as { token: string; id: string }).token;
  secrets.push(wt);
  await fetch(`${base}/v1/token`, { method: 'POST', headers: { authorization: bearer(bad[0]!), 'content-type': 'application/json' } });
  const st = await auth.createStatic({ name: 'logbox' });
  secrets.push(st.token);
  await auth.authenticate(bearer(wt));
  await auth.revoke(st.info.id);
  await auth.authenticate(bearer(st.token));
  writeFileSync(join(dir, 'data', 'tokens.json'), '{broken');
  await auth.authenticate(bearer(wt));
  t.same(upstreamCredential(policy.settingsFor('api.openai.com'), ANONYMOUS, 'api.openai.com').set, { authorization: `Bearer ${KEY}` });
  delete process.env.WT_LOG_TEST_KEY;
  try {
    upstreamCredential(policy.settingsFor('api.openai.com'), ANONYMOUS, 'api.openai.com');
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'exchange failed'); // what the proxy logs
  }

  const all = lines.join('\n');
  t.ok(lines.length >= 8, `logging happened (${lines.length} lines)`);
  t.match(all, /proxy authentication refused/);
  t.match(all, /oidc token exchanged/);
  t.match(all, /wiretrail credential revoked/);
  t.match(all, /oidc discovery failed/);
  t.match(all, /token store unreadable/);
  const leaks: string[] = [];
  secrets.forEach((s, i) => {
    // The whole value and each JWT part longer than a header (payload, signature).
    const pieces = [s, ...s.split('.').filter((p) => p.length > 40), s.slice(3, 24)];
    for (const p of pieces) if (all.includes(p)) leaks.push(`secret #${i}: a ${p.length}-char piece`);
  });
  t.same(leaks, [], `none of ${secrets.length} secrets leaks`);
  t.notOk(all.includes(KEY.slice(8, 30)), 'no part of the injected key');
});
