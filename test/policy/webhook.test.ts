// Webhook delivery of pending approvals: a local receiver checks the HMAC header and the body; a
// failing receiver gets retries with back-off; a hanging one never delays the hold.
import t from 'tap';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ApprovalQueue, identityKey, type HoldInput } from '../../src/policy/index.js';
import { WebhookNotifier, approvalEvent } from '../../src/policy/webhook.js';
import { approvalJson } from '../../src/policy/admin-routes.js';
import type { Identity } from '../../src/identity/types.js';

const SECRET = 'a-long-enough-secret-0123';
const alice: Identity = { kind: 'oidc', subject: 'alice', email: 'alice@example.com', groups: [], attributes: {}, expiresAt: null };
const input: HoldInput = {
  rule: 'prod-deploys', host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions?x=1', identity: alice,
  identityKey: identityKey(alice, '127.0.0.1'), summary: 'deploy to production [MASKED:openai-key#1]', session: 's1',
  approvers: { groups: ['sre'], subjects: [] }, windowMs: null, timeoutMs: 60_000,
};
const logs: string[] = [];
const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) });

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(answer: (n: number) => number | 'hang'): Promise<{ url: string; got: Received[]; next: () => Promise<Received>; close: () => void }> {
  const got: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = { headers: req.headers, body };
      got.push(r);
      waiters.shift()?.(r);
      const a = answer(got.length);
      if (a === 'hang') return;
      res.writeHead(a).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

t.test('signed JSON event with the masked summary and approve/deny links', async (t) => {
  const rx = await receiver(() => 204);
  t.teardown(rx.close);
  const wh = new WebhookNotifier({ spec: { url: rx.url, secret: SECRET, format: 'wiretrail', max_attempts: 3 }, publicUrl: 'http://127.0.0.1:8081', logger });
  const q = new ApprovalQueue({ maxPending: 10, onPending: (p) => wh.notify(p) });
  const arrived = rx.next();
  const h = q.hold(input);
  const r = await arrived;
  const expected = 'sha256=' + createHmac('sha256', SECRET).update(r.body).digest('hex');
  t.equal(r.headers['x-wiretrail-signature-256'], expected, 'HMAC-SHA256 over the exact body bytes');
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.headers['x-wiretrail-event'], 'approval.pending');
  const ev = JSON.parse(r.body) as { approval: Record<string, unknown>; links: Record<string, string>; delivery: string };
  t.equal(ev.approval.id, h.pending.id);
  t.equal(ev.approval.rule, 'prod-deploys');
  t.equal(ev.approval.summary, 'deploy to production [MASKED:openai-key#1]');
  t.equal(ev.approval.path, '/v1/chat/completions', 'query string left out');
  t.equal(ev.links.approve, `http://127.0.0.1:8081/v1/approvals/${h.pending.id}/approve`);
  t.equal(ev.links.deny, `http://127.0.0.1:8081/v1/approvals/${h.pending.id}/deny`);
  t.equal(r.headers['x-wiretrail-delivery'], ev.delivery);
  q.close();
  wh.close();
});

t.test('Slack-compatible body', async (t) => {
  const rx = await receiver(() => 200);
  t.teardown(rx.close);
  const wh = new WebhookNotifier({ spec: { url: rx.url, secret: SECRET, format: 'slack', max_attempts: 1 }, publicUrl: 'https://wt.example', logger });
  const q = new ApprovalQueue({ maxPending: 10, onPending: (p) => wh.notify(p) });
  const arrived = rx.next();
  const h = q.hold(input);
  const body = JSON.parse((await arrived).body) as { text: string; blocks: { type: string }[] };
  t.match(body.text, new RegExp(`approval needed \\(rule prod-deploys\\) for alice@example\\.com .*${h.pending.id}`));
  t.same(body.blocks.map((b) => b.type), ['section', 'section', 'context']);
  t.match(JSON.stringify(body.blocks), /https:\/\/wt\.example\/ui\/approvals#/);
  q.close();
  wh.close();
});

t.test('a failing receiver is retried with back-off until it answers 2xx', async (t) => {
  const rx = await receiver((n) => (n < 3 ? 500 : 200));
  t.teardown(rx.close);
  const wh = new WebhookNotifier({ spec: { url: rx.url, secret: SECRET, format: 'wiretrail', max_attempts: 5 }, publicUrl: null, logger, retryBaseMs: 20 });
  const q = new ApprovalQueue({ maxPending: 10, onPending: (p) => wh.notify(p) });
  const third = (async () => {
    await rx.next();
    await rx.next();
    return rx.next();
  })();
  const keep = setTimeout(() => undefined, 10_000); // back-off timers are unref'd
  q.hold(input);
  const r3 = await third;
  clearTimeout(keep);
  t.equal(rx.got.length, 3);
  t.equal(new Set(rx.got.map((g) => g.headers['x-wiretrail-delivery'])).size, 1, 'one delivery id across retries');
  t.equal(rx.got[0]!.body, r3.body, 'the same signed bytes are re-sent');
  t.ok(logs.some((l) => /approval webhook delivery failed; retrying/.test(l) && /HTTP 500/.test(l)));
  t.notOk(logs.some((l) => l.includes(SECRET)), 'the secret never reaches a log line');
  q.close();
  wh.close();
});

t.test('an unreachable receiver gives up after max_attempts; a hanging one never blocks the hold', async (t) => {
  const dead = await receiver(() => 200);
  const deadUrl = dead.url;
  dead.close();
  logs.length = 0;
  const wh = new WebhookNotifier({ spec: { url: deadUrl, secret: SECRET, format: 'wiretrail', max_attempts: 2 }, publicUrl: null, logger, retryBaseMs: 10 });
  const keep = setTimeout(() => undefined, 10_000);
  wh.notify(new ApprovalQueue({ maxPending: 1 }).hold(input).pending);
  while (!logs.some((l) => /giving up/.test(l))) await new Promise((r) => setTimeout(r, 10));
  clearTimeout(keep);
  t.match(logs.find((l) => /giving up/.test(l)), /"attempts":2/);

  const hang = await receiver(() => 'hang');
  t.teardown(hang.close);
  const wh2 = new WebhookNotifier({ spec: { url: hang.url, secret: SECRET, format: 'wiretrail', max_attempts: 1 }, publicUrl: null, logger, attemptTimeoutMs: 200 });
  const q = new ApprovalQueue({ maxPending: 10, onPending: (p) => wh2.notify(p) });
  const arrived = hang.next();
  const h = q.hold(input);
  t.equal(q.list().length, 1, 'hold() returned while the receiver has not answered');
  q.approve(h.pending.id, { kind: 'admin', subject: null, groups: [] });
  t.equal((await h.outcome).result, 'approved', 'the decision path did not wait for the webhook');
  await arrived;
  wh.close();
  wh2.close();
});

t.test('the secret may come from ${env:NAME} or ${file:/path}; a missing one is an error naming the source only', async (t) => {
  const { resolveSecret } = await import('../../src/policy/webhook.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  process.env.WT_TEST_HOOK_SECRET = 'from-the-environment-123';
  t.equal(resolveSecret('${env:WT_TEST_HOOK_SECRET}'), 'from-the-environment-123');
  const f = join(mkdtempSync(join(tmpdir(), 'wt-hook-')), 'secret');
  writeFileSync(f, 'from-a-file-0123456789\n', { mode: 0o600 });
  t.equal(resolveSecret(`\${file:${f}}`), 'from-a-file-0123456789');
  t.throws(() => resolveSecret('${env:WT_TEST_HOOK_UNSET}'), { message: 'approvals.webhook.secret: environment variable WT_TEST_HOOK_UNSET is not set' });
  t.throws(() => resolveSecret('${file:/nonexistent/secret}'), { message: /cannot read \/nonexistent\/secret: ENOENT/ });
  t.equal(resolveSecret('a-literal-secret-0123'), 'a-literal-secret-0123');
});

t.test('the webhook event and the admin API list describe a pending approval the same way (the list adds the session)', async (t) => {
  const q = new ApprovalQueue({ maxPending: 10 });
  const held = q.hold(input);
  t.teardown(() => held.cancel('test over'));
  const p = held.pending;
  const event = approvalEvent(p, null, 'd1').approval as Record<string, unknown>;
  const { session, ...rest } = approvalJson(p);
  t.equal(session, 's1');
  t.same(rest, event);
  t.equal(event.path, '/v1/chat/completions', 'no query string in either');
  t.notOk('session' in event, 'the event sent outside carries no session id');
});
