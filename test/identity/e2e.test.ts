// Identity end to end through the running proxy: real clients authenticate with
// http://USER:TOKEN@proxy, refusals carry their reason, revocation hits an open keep-alive
// connection, the upstream key is injected and leaves no trace in the data, logs or records.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startHarness } from '../helpers/harness.js';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { connectTunnel, rawExchange, tlsOver } from '../helpers/raw.js';
import { readAdminToken } from '../../src/admin/client.js';
import { openAuditLog, type StoredRecord } from '../../src/audit/index.js';
import { TestIssuer, GITHUB_CLAIMS } from './helpers/oidc-issuer.js';
import { basic } from './helpers/env.js';
import { runCli, runCliHere } from './helpers/cli.js';

const INJECTED = 'sk-proj-E2Einjected' + 'Hq7Zt2Vw9Lm4Rx8Kp3Nc6Bd1'.repeat(2);
const CLIENT_KEY = 'sk-proj-E2Eclient' + 'Gt5Yw8Qe3Ru6Io9Pa2Sd4Fh7'.repeat(2);
process.env.WT_E2E_OPENAI_KEY = INJECTED;

const issuer = await TestIssuer.start();
const mock = await startMockUpstream({ handler: openaiHandler() });
const policy = `egress: audit
auth: required
oidc:
  issuers:
    - issuer: ${issuer.issuer}
      audience: wiretrail
      jwks_uri: ${issuer.jwksUri}
tokens:
  default_ttl_seconds: 600
  max_ttl_seconds: 3600
hosts:
  api.openai.com:
    credentials:
      - header: authorization
        value: "Bearer \${env:WT_E2E_OPENAI_KEY}"
`;
const h = await startHarness({ policy, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`], admin: true });
const adminUrl = `http://127.0.0.1:${h.admin!.port}`;
const adminToken = readAdminToken(h.certsDir)!;
const proxyHostPort = `127.0.0.1:${h.proxy.port}`;
let closed = false;
t.teardown(async () => {
  if (!closed) await h.close();
  await h.stop();
  await mock.close();
  await issuer.close();
  delete process.env.WT_E2E_OPENAI_KEY;
});

const URL_CHAT = 'https://api.openai.com/v1/chat/completions';
const chat = (content: string) => JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content }] });
/** Every credential a client used: none may show up in the data folder, logs or records. */
const usedSecrets: string[] = [INJECTED, CLIENT_KEY];

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function exchange(claims: Record<string, unknown> = GITHUB_CLAIMS): Promise<string> {
  const jwt = await issuer.sign(claims);
  usedSecrets.push(jwt);
  const r = await runCli(['login', '--oidc-token', jwt, '--admin', adminUrl, '--proxy', proxyHostPort, '--token-only']);
  if (r.code !== 0) throw new Error(`login failed: ${r.stderr}`);
  const wt = r.stdout.trim();
  usedSecrets.push(wt);
  return wt;
}

t.test('without or with a bad credential: 407, Proxy-Authenticate and the reason', async (t) => {
  const none = await rawExchange(h.proxy.port, `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n`);
  t.match(none.text, /^HTTP\/1\.1 407 /);
  t.match(none.text, /\r\nproxy-authenticate: Basic realm="wiretrail"/i);
  t.match(none.text, /missing credentials/);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string][] = [
    [await issuer.sign({ exp: now - 3600, iat: now - 4000, nbf: now - 4000 }), 'token expired'],
    [await issuer.sign({ aud: 'someone-else' }), 'bad audience'],
    ['wt_' + 'N'.repeat(43), 'unknown credential'],
  ];
  for (const [token, reason] of cases) {
    usedSecrets.push(token);
    const r = await rawExchange(h.proxy.port, `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: ${basic('oidc', token)}\r\n\r\n`);
    t.match(r.text, /^HTTP\/1\.1 407 /, reason);
    t.match(r.text, new RegExp(reason), reason);
  }
});

t.test('curl with http://oidc:JWT@proxy: the upstream sees the injected key, never the client key', async (t) => {
  const jwt = await issuer.sign({ ...GITHUB_CLAIMS, email: 'octo@example.com' });
  usedSecrets.push(jwt);
  const proxy = `http://oidc:${jwt}@${proxyHostPort}`;
  const before = mock.seen.length;
  const r = await run('curl', ['-sS', '--fail-with-body', '--cacert', h.caPath, '-H', 'content-type: application/json', '-H', `authorization: Bearer ${CLIENT_KEY}`, '-d', chat('hello from curl'), URL_CHAT], {
    HTTPS_PROXY: proxy,
    https_proxy: proxy,
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).choices[0].message.content, 'echo: hello from curl');
  t.notOk(r.stdout.includes(INJECTED), 'the client never sees the injected key');
  const seen = mock.seen.slice(before);
  t.equal(seen.length, 1);
  t.equal(seen[0]!.headers.authorization, `Bearer ${INJECTED}`);
  t.notOk(JSON.stringify(seen[0]!.headers).includes(CLIENT_KEY), 'the client key is not forwarded');
  t.notOk('proxy-authorization' in seen[0]!.headers, 'Proxy-Authorization does not go upstream');
});

t.test('python3 requests with a wiretrail credential from `wiretrail login`', async (t) => {
  const wt = await exchange();
  const script = [
    'import sys, requests',
    `r = requests.post(${JSON.stringify(URL_CHAT)}, data=${JSON.stringify(chat('hello from python'))}, headers={"content-type": "application/json"},`,
    `                  proxies={"https": ${JSON.stringify(`http://wt:${wt}@${proxyHostPort}`)}}, verify=${JSON.stringify(h.caPath)}, timeout=30)`,
    'print(r.status_code)',
    'print(r.json()["choices"][0]["message"]["content"])',
  ].join('\n');
  const r = await run('python3', ['-c', script]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '200\necho: hello from python\n');
  t.equal(mock.seen.at(-1)!.headers.authorization, `Bearer ${INJECTED}`);
});

t.test('undici ProxyAgent with http://user:token@proxy (static token)', async (t) => {
  const created = await runCli(['tokens', 'create', '--admin', adminUrl, '--name', 'e2e-box', '--groups', 'ml'], { env: { ...process.env, WIRETRAIL_ADMIN_TOKEN: adminToken } });
  t.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  usedSecrets.push(token);
  const dispatcher = new ProxyAgent({ uri: `http://box:${token}@${proxyHostPort}`, requestTls: { ca: h.caPem } });
  t.teardown(() => dispatcher.close());
  const res = await undiciFetch(URL_CHAT, { method: 'POST', body: chat('hello from undici'), headers: { 'content-type': 'application/json' }, dispatcher });
  t.equal(res.status, 200);
  t.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'echo: hello from undici');
});

t.test('revocation takes effect on the next request of an open keep-alive connection', async (t) => {
  const wt = await exchange({ ...GITHUB_CLAIMS, run_id: '5150' });
  const tunnel = await connectTunnel(h.proxy.port, 'api.openai.com:443', { 'Proxy-Authorization': basic('wt', wt) });
  t.equal(tunnel.status, 200);
  const tlsSocket = await tlsOver(tunnel.socket, 'api.openai.com', h.caPem);
  let connects = 0;
  // One socket only: a second connection would mean the proxy closed the first (not what is tested).
  class OneSocketAgent extends https.Agent {
    override createConnection(): Duplex {
      connects++;
      if (connects > 1) throw new Error('a second connection was needed');
      return tlsSocket;
    }
  }
  const agent = new OneSocketAgent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => {
    agent.destroy();
    tlsSocket.destroy();
  });
  const ask = (content: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const body = chat(content);
      const req = https.request(
        { host: 'api.openai.com', port: 443, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const first = await ask('before revocation');
  t.equal(first.status, 200);
  const list = (await (await fetch(`${adminUrl}/v1/tokens`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { tokens: { id: string; attributes: Record<string, string> }[] };
  const id = list.tokens.find((x) => x.attributes.run_id === '5150')!.id;
  const del = await fetch(`${adminUrl}/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } });
  t.equal(del.status, 200);
  const second = await ask('after revocation');
  t.equal(second.status, 407);
  t.match(second.text, /credential revoked/);
  t.equal(connects, 1, 'both requests went over the same connection');
  t.equal(mock.seen.filter((s) => s.body.includes('after revocation')).length, 0, 'the refused request never reached the upstream');
});

t.test('records carry identity and claims; no credential or key anywhere in data, certs, logs or records', async (t) => {
  await h.close();
  closed = true;
  const log = await openAuditLog({ dataDir: h.dataDir, certsDir: h.certsDir, readOnly: true });
  const records: StoredRecord[] = [];
  try {
    for (const s of await log.listSessions({ limit: 10_000 })) records.push(...(await log.readSession(s.session)));
  } finally {
    await log.close();
  }
  const metas = records.map((r) => ({ kind: r.kind, meta: r.meta as Record<string, unknown> }));
  const requests = metas.filter((r) => r.kind === 'request');
  const curlReq = requests.find((r) => (r.meta.identity as { email?: string } | undefined)?.email === 'octo@example.com');
  t.ok(curlReq, 'the curl request is recorded with its OIDC identity');
  const id = curlReq?.meta.identity as { kind: string; subject: string; issuer: string; attributes: Record<string, string> };
  t.equal(id?.kind, 'oidc');
  t.equal(id?.subject, GITHUB_CLAIMS.sub);
  t.equal(id?.issuer, issuer.issuer);
  t.same(id?.attributes, { repository: 'acme/app', ref: 'refs/heads/main', sha: GITHUB_CLAIMS.sha, run_id: '4242', workflow: 'ci', actor: 'octocat' });
  t.match(curlReq?.meta.clientSentKey, /^authorization: Bearer sk-pro…\(\d+ chars\)$/, 'the client key is recorded, masked');
  t.same(curlReq?.meta.injected, ['authorization']);
  t.ok(requests.some((r) => (r.meta.identity as { kind?: string; subject?: string } | undefined)?.subject === 'token:e2e-box'), 'static token identity');
  t.ok(requests.some((r) => (r.meta.identity as { kind?: string } | undefined)?.kind === 'token' && (r.meta.identity as { attributes: Record<string, string> }).attributes.repository === 'acme/app'), 'exchanged credential keeps the claims');
  const denies = metas.filter((r) => r.kind === 'deny').map((r) => String(r.meta.reason));
  for (const reason of ['missing credentials', 'token expired', 'bad audience', 'unknown credential', 'credential revoked']) {
    t.ok(denies.some((d) => d.includes(reason)), `refusal recorded: ${reason}`);
  }

  // An export bundle (NDJSON, bodies in base64: decoded for the search).
  const bundle = join(h.dir, 'export.ndjson');
  const exported = await runCliHere(['export', '--data', h.dataDir, '--certs', h.certsDir, '--out', bundle]);
  t.equal(exported.code, 0, exported.stderr);
  const bundleBodies = readFileSync(bundle, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { body?: string | null }).body)
    .filter((b): b is string => typeof b === 'string')
    .map((b) => Buffer.from(b, 'base64').toString('latin1'))
    .join('\n');
  t.ok(bundleBodies.includes('hello from curl'), 'the bundle carries the bodies searched');

  // Full-text search: every file under the harness folder (data, certs, policy, export), the logs, the records.
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(h.dir);
  t.ok(files.some((f) => f.endsWith('tokens.json')) && files.includes(bundle), 'the token store and the export are among the files searched');
  const haystacks: [string, Buffer][] = [
    ...files.map((f): [string, Buffer] => [f, readFileSync(f)]),
    ['logs', Buffer.from(h.logs.join('\n'))],
    ['export bodies', Buffer.from(bundleBodies, 'latin1')],
    ['records', Buffer.from(JSON.stringify(records.map((r) => ({ ...r, body: r.body?.toString('latin1') ?? null }))))],
  ];
  const leaks: string[] = [];
  usedSecrets.forEach((s, i) => {
    const pieces = [s, s.slice(8, 40), ...s.split('.').filter((p) => p.length > 40)];
    for (const [where, buf] of haystacks) for (const p of pieces) if (buf.includes(p)) leaks.push(`secret #${i} in ${where}`);
  });
  t.same(leaks, [], `none of ${usedSecrets.length} credentials and keys found in ${files.length} files, ${h.logs.length} log lines, ${records.length} records`);
});
