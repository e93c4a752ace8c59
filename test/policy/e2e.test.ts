// The policy in front of real SDKs through the proxy: deny shapes read by the openai and
// @anthropic-ai/sdk packages (the reason reaches the caller's error) and the Gemini shape; holds
// approved, denied, timed out, refused for self-approval, window grants; a held stream with SSE
// keep-alives; rate limit 429 + Retry-After; record: metadata; reload with a broken file; and every
// decision in the exported bundle with verify passing.
import t from 'tap';
import http from 'node:http';
import { once } from 'node:events';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allRecords } from '../helpers/records.js';
import { runCliHere } from '../helpers/cli.js';
import { adminFetch } from '../../src/admin/client.js';

const hooks: string[] = [];
const receiver = http.createServer((req, res) => {
  let b = '';
  req.on('data', (d: Buffer) => (b += d.toString()));
  req.on('end', () => {
    hooks.push(b);
    res.writeHead(204).end();
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');

const POLICY = `
auth: optional
approvals:
  keepalive: 50ms
  webhook: { url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook", secret: "0123456789abcdef-secret" }
rules:
  - name: no-destructive-sql
    match: { prompt: { contains: ["DROP TABLE"] } }
    action: deny
    reason: destructive SQL in prompt
  - name: prod-deploys
    match: { prompt: { contains: ["deploy to production"] } }
    action: require_approval
    approval: { timeout: 20s, approvers: { groups: [sre] } }
  - name: slow
    match: { prompt: { contains: ["nobody answers"] } }
    action: require_approval
    approval: { timeout: 300ms }
  - name: rated
    match: { prompt: { contains: ["rate me"] } }
    action: allow
    rate_limit: { requests_per_minute: 2 }
  - name: quiet
    match: { prompt: { contains: ["metadata only"] } }
    action: allow
    record: metadata
`;

const hosts = ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com'];
const mock = await startMockUpstream({ hosts, handler: openaiHandler() });
const h = await startHarness({ policy: POLICY, admin: true, upstreamCa: [mock.caFile], connectTo: hosts.map((x) => `${x}:443:127.0.0.1:${mock.port}`) });
const adminUrl = `http://127.0.0.1:${h.admin!.port}`;
let stopped = false;
t.teardown(async () => {
  if (!stopped) await h.close();
  rmSync(h.dir, { recursive: true, force: true });
  await mock.close();
  receiver.close();
});

const adminToken = (await import('node:fs')).readFileSync(join(h.certsDir, 'admin.token'), 'utf8').trim();
async function staticToken(name: string, groups: string[]): Promise<string> {
  const res = await adminFetch(adminUrl, '/v1/tokens', { token: adminToken, body: { name, groups } });
  return ((await res.json()) as { token: string }).token;
}
const aliceToken = await staticToken('alice', ['sre', 'dev']);
const samToken = await staticToken('sam', ['sre']);

const agents: ProxyAgent[] = [];
function dispatcher(token?: string): ProxyAgent {
  const d = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem }, ...(token ? { token: `Bearer ${token}` } : {}) });
  agents.push(d);
  return d;
}
t.teardown(() => Promise.all(agents.map((a) => a.close())));
const openai = (token?: string) => new OpenAI({ apiKey: 'sk-test-not-real', fetchOptions: { dispatcher: dispatcher(token) } as never, maxRetries: 0 });
const chat = (content: string) => ({ model: 'gpt-4.1-mini', stream: false as const, messages: [{ role: 'user' as const, content }] });
const chatStream = (content: string) => ({ model: 'gpt-4.1-mini', stream: true as const, messages: [{ role: 'user' as const, content }] });
const upstreamSaw = (text: string) => mock.seen.some((s) => s.body.includes(text));

async function pendingFor(rule: string): Promise<{ id: string; rule: string; host: string; identity: { subject: string | null }; summary: string; createdAt: string; expiresAt: string }> {
  for (;;) {
    const r = await runCliHere(['approvals', 'list', '--admin', adminUrl, '--certs', h.certsDir, '--json']);
    const items = JSON.parse(r.stdout) as { id: string; rule: string }[];
    const it = items.find((x) => x.rule === rule);
    if (it) return it as never;
    await new Promise((res) => setTimeout(res, 20));
  }
}

t.test('deny: the openai SDK error carries the reason; OpenAI shape and Proxy-Status', async (t) => {
  const err = await openai().chat.completions.create(chat('please DROP TABLE users')).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.PermissionDeniedError, 'PermissionDeniedError');
  const e = err as InstanceType<typeof OpenAI.APIError>;
  t.equal(e.status, 403);
  t.match(e.message, 'wiretrail: destructive SQL in prompt (rule no-destructive-sql)');
  t.equal(e.type, 'policy_violation');
  t.equal(e.code, 'wiretrail_denied');
  const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', body: JSON.stringify(chat('DROP TABLE x')), headers: { 'content-type': 'application/json' }, dispatcher: dispatcher() });
  t.equal(res.status, 403);
  t.same(await res.json(), { error: { message: 'wiretrail: destructive SQL in prompt (rule no-destructive-sql)', type: 'policy_violation', code: 'wiretrail_denied' } });
  t.match(res.headers.get('proxy-status'), /^wiretrail; error=http_request_denied; details="wiretrail: destructive SQL in prompt \(rule no-destructive-sql\)"/);
  t.notOk(upstreamSaw('DROP TABLE'), 'nothing went upstream');
});

t.test('deny: the anthropic SDK error carries the reason; Gemini shape', async (t) => {
  const anthropic = new Anthropic({ apiKey: 'sk-ant-test', fetchOptions: { dispatcher: dispatcher() } as never, maxRetries: 0 });
  const err = await anthropic.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'DROP TABLE a' }] }).catch((e: unknown) => e);
  t.ok(err instanceof Anthropic.PermissionDeniedError, 'PermissionDeniedError');
  t.match((err as Error).message, 'wiretrail: destructive SQL in prompt (rule no-destructive-sql)');
  t.same((err as { error: unknown }).error, { type: 'error', error: { type: 'permission_error', message: 'wiretrail: destructive SQL in prompt (rule no-destructive-sql)' } });

  const res = await undiciFetch('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent', {
    method: 'POST', body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'DROP TABLE b' }] }] }), headers: { 'content-type': 'application/json' }, dispatcher: dispatcher(),
  });
  t.equal(res.status, 403);
  t.same(await res.json(), { error: { code: 403, message: 'wiretrail: destructive SQL in prompt (rule no-destructive-sql)', status: 'PERMISSION_DENIED' } });
});

t.test('hold -> listed (CLI --json) -> approved with --window; the window lets the next one through', async (t) => {
  const asked = openai(aliceToken).chat.completions.create(chat('deploy to production today'));
  const item = await pendingFor('prod-deploys');
  for (const k of ['id', 'rule', 'host', 'identity', 'summary', 'createdAt', 'expiresAt']) t.ok(k in item, `list item has ${k}`);
  t.equal(item.host, 'api.openai.com');
  t.equal(item.identity.subject, 'token:alice');
  t.match(item.summary, 'deploy to production today');
  t.notOk(upstreamSaw('deploy to production today'), 'nothing upstream while held');
  while (!hooks.some((x) => x.includes(item.id))) await new Promise((r) => setTimeout(r, 10));
  const hook = JSON.parse(hooks.find((x) => x.includes(item.id))!) as { links: { approve: string } };
  t.equal(hook.links.approve, `${adminUrl}/v1/approvals/${item.id}/approve`, 'webhook delivered with admin links');

  const self = await runCliHere(['approvals', 'approve', item.id, '--admin', adminUrl, '--token-file', writeTmp('alice.tok', aliceToken)]);
  t.equal(self.code, 1, 'self-approval refused');
  t.match(self.stderr, /403: nobody approves their own request/);

  const ok = await runCliHere(['approvals', 'approve', item.id, '--window', '10m', '--admin', adminUrl, '--token-file', writeTmp('sam.tok', samToken)]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, `${item.id}: approved by token:sam; same identity + rule allowed until`);
  const answer = await asked;
  t.equal(answer.choices[0]!.message.content, 'echo: deploy to production today');

  const again = await openai(aliceToken).chat.completions.create(chat('deploy to production again'));
  t.equal(again.choices[0]!.message.content, 'echo: deploy to production again', 'window grant: no hold');
  const other = openai(samToken).chat.completions.create(chat('deploy to production as sam'));
  const held = await pendingFor('prod-deploys');
  t.equal(held.identity.subject, 'token:sam', 'the window is for alice only');
  t.equal((await runCliHere(['approvals', 'deny', held.id, '--reason', 'not now', '--admin', adminUrl, '--certs', h.certsDir])).code, 0);
  const err = await other.catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.PermissionDeniedError);
  t.match((err as Error).message, 'wiretrail: approval denied by admin token: not now (rule prod-deploys)');
});

t.test('the approval summary is masked; the approvals API needs credentials', async (t) => {
  const secret = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
  const asked = openai().chat.completions.create(chat(`deploy to production with ${secret}`)).catch((e: unknown) => e);
  const item = await pendingFor('prod-deploys');
  t.notMatch(item.summary, secret.slice(4), 'the token is not in the summary');
  t.match(item.summary, /deploy to production with \[MASKED:/);
  const anon = await fetch(`${adminUrl}/v1/approvals`);
  t.equal(anon.status, 401);
  const bad = await fetch(`${adminUrl}/v1/approvals`, { headers: { authorization: 'Bearer wta_wrong' } });
  t.equal(bad.status, 401);
  t.equal((await runCliHere(['approvals', 'deny', item.id, '--admin', adminUrl, '--certs', h.certsDir])).code, 0);
  t.ok((await asked) instanceof OpenAI.PermissionDeniedError);
});

t.test('timeout answers 403 approval timed out; unknown ids are 404 (exit 1)', async (t) => {
  const err = await openai().chat.completions.create(chat('nobody answers this')).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.PermissionDeniedError);
  t.match((err as Error).message, 'wiretrail: approval timed out (rule slow)');
  const r = await runCliHere(['approvals', 'approve', 'apr_nope', '--admin', adminUrl, '--certs', h.certsDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /404/);
});

t.test('a held streaming request through the SDK: keep-alive comments, then the stream', async (t) => {
  // Raw first: the comments are on the wire before anyone approves.
  const res = await undiciFetch('https://api.openai.com/v1/chat/completions', { method: 'POST', body: JSON.stringify(chatStream('deploy to production, streamed raw')), headers: { 'content-type': 'application/json' }, dispatcher: dispatcher() });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.getReader();
  let seen = '';
  while ((seen.match(/: wiretrail: still waiting for approval/g) ?? []).length < 2) seen += new TextDecoder().decode((await reader.read()).value);
  t.match(seen, /^: wiretrail: waiting for approval apr_/);
  const raw = await pendingFor('prod-deploys');
  t.equal((await runCliHere(['approvals', 'approve', raw.id, '--admin', adminUrl, '--certs', h.certsDir])).code, 0);
  for (;;) {
    const c = await reader.read();
    if (c.done) break;
    seen += new TextDecoder().decode(c.value);
  }
  t.match(seen, /data: \[DONE\]/);

  // The SDK: approved stream yields the text; a denied stream throws with the reason.
  const stream = await openai().chat.completions.create(chatStream('deploy to production via sdk'));
  const item = await pendingFor('prod-deploys');
  t.equal((await runCliHere(['approvals', 'approve', item.id, '--admin', adminUrl, '--certs', h.certsDir])).code, 0);
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  t.equal(text, 'echo: deploy to production via sdk');

  const denied = await openai().chat.completions.create(chatStream('deploy to production, will be denied'));
  const d = await pendingFor('prod-deploys');
  t.equal((await runCliHere(['approvals', 'deny', d.id, '--reason', 'freeze', '--admin', adminUrl, '--certs', h.certsDir])).code, 0);
  const err = await (async () => {
    for await (const _ of denied) void _;
  })().catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.APIError, 'the stream throws an APIError');
  t.match((err as Error).message, 'wiretrail: approval denied by admin token: freeze (rule prod-deploys)');
});

t.test('rate limit: 429 with Retry-After in the provider shape, per identity', async (t) => {
  const client = openai(aliceToken);
  await client.chat.completions.create(chat('rate me 1'));
  await client.chat.completions.create(chat('rate me 2'));
  const err = await client.chat.completions.create(chat('rate me 3')).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.RateLimitError, 'RateLimitError');
  const e = err as InstanceType<typeof OpenAI.APIError>;
  t.equal(e.status, 429);
  t.match(e.message, /wiretrail: rate limit of 2 requests per minute exceeded; retry in \d+s \(rule rated\)/);
  t.match(e.headers?.get('retry-after') ?? '', /^[1-9]\d*$/);
  const other = await openai(samToken).chat.completions.create(chat('rate me as sam'));
  t.equal(other.choices[0]!.message.content, 'echo: rate me as sam', 'another identity has its own budget');
});

t.test('record: metadata keeps sizes and hashes, no bodies', async (t) => {
  const r = await openai().chat.completions.create(chat('metadata only please'));
  t.equal(r.choices[0]!.message.content, 'echo: metadata only please');
  const recs = await allRecords(h);
  const req = recs.find((x) => x.kind === 'request' && (x.meta.policy as { rule?: string } | undefined)?.rule === 'quiet')!;
  t.ok(req, 'request recorded');
  t.equal(req.meta.record, 'metadata');
  t.match(req.meta.bodySha256, /^[0-9a-f]{64}$/);
  t.equal(req.body ?? null, null, 'no request body stored');
  const chunks = recs.filter((x) => x.session === req.session && x.kind === 'chunk');
  t.ok(chunks.length > 0);
  for (const c of chunks) {
    t.equal(c.body ?? null, null, 'no chunk body stored');
    t.match(c.meta.sha256, /^[0-9a-f]{64}$/);
  }
  t.ok(recs.some((x) => x.session === req.session && x.kind === 'response-end'), 'timings and sizes recorded');
});

t.test('reload with a broken file keeps the old policy; a good one replaces it', async (t) => {
  const file = join(h.dir, 'policy.yaml');
  writeFileSync(file, POLICY + '  - name: broken\n    action: deny\n    colour: red\n');
  const r = h.reloadPolicy('SIGHUP');
  t.notOk(r.ok);
  t.match(r.message, /rules\.5\.colour: unknown key "colour"; the previous policy stays in force/);
  const err = await openai().chat.completions.create(chat('DROP TABLE still denied')).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.PermissionDeniedError, 'old policy in force');
  writeFileSync(file, POLICY.replace('DROP TABLE', 'TRUNCATE'));
  t.ok(h.reloadPolicy('SIGHUP').ok);
  const ok = await openai().chat.completions.create(chat('DROP TABLE now allowed'));
  t.equal(ok.choices[0]!.message.content, 'echo: DROP TABLE now allowed');
});

t.test('every decision is in the exported bundle and verify passes', async (t) => {
  await h.close();
  stopped = true;
  const base = ['--data', h.dataDir, '--certs', h.certsDir];
  const v = await runCliHere(['verify', ...base]);
  t.equal(v.code, 0, v.stderr + v.stdout);
  const out = join(h.dir, 'bundle.ndjson');
  const ex = await runCliHere(['export', ...base, '--out', out]);
  t.equal(ex.code, 0, ex.stderr);
  const vb = await runCliHere(['verify-bundle', out, '--key', join(h.certsDir, 'audit-log.pub')]);
  t.equal(vb.code, 0, vb.stderr + vb.stdout);
  const records = (await import('node:fs'))
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; record?: string })
    .filter((l) => l.type === 'record')
    .map((l) => JSON.parse(l.record!) as { kind: string; meta: Record<string, unknown> });
  const find = (kind: string, f: (m: Record<string, unknown>) => boolean) => records.find((r) => r.kind === kind && f(r.meta));
  t.ok(find('deny', (m) => m.rule === 'no-destructive-sql' && m.status === 403), 'deny, with its rule');
  t.ok(find('policy', (m) => m.event === 'hold' && m.rule === 'prod-deploys' && typeof m.approval === 'string'), 'hold');
  const approved = find('policy', (m) => m.event === 'approved' && (m.by as { subject?: string }).subject === 'token:sam');
  t.ok(approved, 'approval: who');
  t.ok(typeof approved?.meta.at === 'number', 'approval: when');
  t.ok(find('policy', (m) => m.event === 'window-grant' && typeof m.until === 'number'), 'window grant');
  t.ok(find('request', (m) => (m.policy as { event?: string } | undefined)?.event === 'window-allow'), 'request let through by the window');
  t.ok(find('deny', (m) => m.event === 'approval-denied' && m.approverReason === 'not now'), 'approval denied, with the reason');
  t.ok(find('deny', (m) => m.event === 'approval-timeout' && m.rule === 'slow'), 'timeout');
  t.ok(find('deny', (m) => m.action === 'rate_limited' && m.status === 429), 'rate limit');
  t.ok(find('request', (m) => (m.policy as { rule?: unknown } | undefined)?.rule === null), 'no-match allow decisions are on the request record');
});

function writeTmp(name: string, text: string): string {
  const p = join(h.dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}
