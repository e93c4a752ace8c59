// The approval queue: approve, deny, timeout, self-approval refused, approvers by group/subject,
// window grants, the bound on pending holds; the rate limiter's bucket and Retry-After.
import t from 'tap';
import { ApprovalQueue, ApprovalError, identityKey, type Approver, type HoldInput } from '../../src/policy/index.js';
import { RateLimiter } from '../../src/policy/rate-limit.js';
import type { Identity } from '../../src/identity/types.js';

const alice: Identity = { kind: 'oidc', subject: 'alice', issuer: 'https://idp', email: 'alice@example.com', groups: ['dev'], attributes: {}, expiresAt: null };
const admin: Approver = { kind: 'admin', subject: null, groups: [] };
const sre: Approver = { kind: 'oidc', subject: 'sam', issuer: 'https://idp', groups: ['sre'] };
const aliceAsSre: Approver = { kind: 'oidc', subject: 'alice', issuer: 'https://idp', email: 'alice@example.com', groups: ['sre'] };
const dev: Approver = { kind: 'oidc', subject: 'dan', issuer: 'https://idp', groups: ['dev'] };

/** The HTTP status of the ApprovalError `fn` throws (fails the test when it does not throw one). */
function statusOf(fn: () => unknown): number | null {
  try {
    fn();
  } catch (err) {
    return err instanceof ApprovalError ? err.status : null;
  }
  return null;
}

function input(over: Partial<HoldInput> = {}): HoldInput {
  return {
    rule: 'prod-deploys', host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', identity: alice,
    identityKey: identityKey(alice, '127.0.0.1'), summary: 'deploy to production', session: 's1',
    approvers: { groups: ['sre'], subjects: ['lead'] }, windowMs: null, timeoutMs: 60_000, ...over,
  };
}

t.test('approve by an approver in the group settles the hold', async (t) => {
  const pendings: string[] = [];
  const q = new ApprovalQueue({ maxPending: 10, onPending: (p) => pendings.push(p.id) });
  const h = q.hold(input());
  t.same(pendings, [h.pending.id], 'webhook hook called once');
  t.equal(q.list().length, 1);
  t.equal(h.pending.expiresAt - h.pending.createdAt, 60_000);
  q.approve(h.pending.id, sre);
  const o = await h.outcome;
  t.equal(o.result, 'approved');
  t.equal(o.result === 'approved' && o.by.subject, 'sam');
  t.equal(q.list().length, 0);
  t.equal(statusOf(() => q.approve(h.pending.id, sre)), 404, 'a decided approval cannot be decided again');
});

t.test('deny carries the reason', async (t) => {
  const q = new ApprovalQueue({ maxPending: 10 });
  const h = q.hold(input());
  q.deny(h.pending.id, admin, 'not during the freeze');
  const o = await h.outcome;
  t.same(o.result === 'denied' && [o.by.kind, o.reason], ['admin', 'not during the freeze']);
});

t.test('nobody approves their own request; non-approvers are refused', async (t) => {
  const q = new ApprovalQueue({ maxPending: 10 });
  const h = q.hold(input());
  t.throws(() => q.approve(h.pending.id, aliceAsSre), new ApprovalError('nobody approves their own request', 403));
  t.equal(statusOf(() => q.deny(h.pending.id, aliceAsSre, null)), 403, 'nor deny it (same subject)');
  t.throws(() => q.approve(h.pending.id, { ...aliceAsSre, subject: 'alice-2' }), { message: /own request/ }, 'same email, other subject');
  t.equal(statusOf(() => q.approve(h.pending.id, dev)), 403);
  t.throws(() => q.approve(h.pending.id, dev), { message: /not an approver for rule prod-deploys/ });
  t.equal(q.list().length, 1, 'still pending after refusals');
  q.approve(h.pending.id, { kind: 'oidc', subject: 'lead', groups: [] });
  t.equal((await h.outcome).result, 'approved', 'a listed subject may approve');
});

t.test('timeout settles with timeout', async (t) => {
  const q = new ApprovalQueue({ maxPending: 10 });
  const h = q.hold(input({ timeoutMs: 20 }));
  // The queue's timer is unref'd (a held request's socket keeps a real process alive); keep this one up.
  const keep = setTimeout(() => undefined, 5000);
  const o = await h.outcome;
  clearTimeout(keep);
  t.equal(o.result, 'timeout');
  t.equal(q.list().length, 0);
});

t.test('cancel (client gone) and close settle every hold', async (t) => {
  const q = new ApprovalQueue({ maxPending: 10 });
  const a = q.hold(input());
  const b = q.hold(input());
  a.cancel('client disconnected');
  t.same(await a.outcome, { result: 'cancelled', at: (await a.outcome).at, reason: 'client disconnected' });
  q.close();
  t.equal((await b.outcome).result, 'cancelled');
});

t.test('a window grant lets the same identity + rule through until it expires', async (t) => {
  let now = 1_000_000;
  const q = new ApprovalQueue({ maxPending: 10, now: () => now });
  const h = q.hold(input({ windowMs: 30 * 60_000 }));
  const key = h.pending.identityKey;
  t.equal(q.windowFor('prod-deploys', key), null);
  const out = q.approve(h.pending.id, sre);
  t.equal(out.windowUntil, now + 30 * 60_000, 'the rule window applies');
  t.equal(q.windowFor('prod-deploys', key)?.approvalId, h.pending.id);
  t.equal(q.windowFor('other-rule', key), null, 'only that rule');
  t.equal(q.windowFor('prod-deploys', identityKey({ ...alice, subject: 'bob' }, '127.0.0.1')), null, 'only that identity');
  now += 30 * 60_000;
  t.equal(q.windowFor('prod-deploys', key), null, 'expired');
  const h2 = q.hold(input());
  t.equal(q.approve(h2.pending.id, sre, 5 * 60_000).windowUntil, now + 5 * 60_000, '--window on a rule without a window');
  const h3 = q.hold(input({ windowMs: 60_000 }));
  q.approve(h3.pending.id, sre, null);
  t.equal(q.windowFor('prod-deploys', key)?.approvalId, h2.pending.id, 'an explicit null window grants nothing new');
});

t.test('the pending queue is bounded', async (t) => {
  const q = new ApprovalQueue({ maxPending: 2 });
  q.hold(input());
  q.hold(input());
  t.equal(statusOf(() => q.hold(input())), 429);
  q.close();
});

t.test('anonymous callers are keyed by client address', async (t) => {
  const anon: Identity = { kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null };
  t.equal(identityKey(anon, '10.0.0.1'), 'anonymous@10.0.0.1');
  t.not(identityKey(alice, '10.0.0.1'), identityKey({ ...alice, issuer: 'https://other' }, '10.0.0.1'));
});

t.test('rate limiter: N per minute, then 429 with Retry-After; refills over time; per key', async (t) => {
  let now = 0;
  const rl = new RateLimiter(100, () => now);
  for (let i = 0; i < 3; i++) t.ok(rl.take('k', 3).ok, `request ${i + 1}`);
  const refused = rl.take('k', 3);
  t.notOk(refused.ok);
  t.equal(refused.retryAfterSeconds, 20, '60s / 3 per minute');
  t.ok(rl.take('other', 3).ok, 'another identity has its own bucket');
  now += 19_000;
  t.notOk(rl.take('k', 3).ok);
  now += 1_000;
  t.ok(rl.take('k', 3).ok, 'one token back after 20s');
});

t.test('rate limiter memory is bounded (LRU eviction)', async (t) => {
  const rl = new RateLimiter(3, () => 0);
  for (const k of ['a', 'b', 'c', 'd']) rl.take(k, 1);
  t.ok(rl.take('a', 1).ok, 'the evicted key starts with a full bucket');
  t.notOk(rl.take('d', 1).ok, 'a remembered key is still limited');
});
