// Rule matching tables: each row is a request and the rule (or none) that must decide it.
import t from 'tap';
import { Policy, promptOfJson, type RuleRequest } from '../../src/policy/index.js';
import type { Identity } from '../../src/identity/types.js';
import { ANONYMOUS } from '../../src/identity/types.js';

const policy = Policy.load(new URL('../fixtures/policy/issue-example.yaml', import.meta.url).pathname);

const contractor: Identity = { kind: 'oidc', subject: 'bob', groups: ['contractors'], attributes: { repository: 'org/app' }, expiresAt: null };
const contractorOtherRepo: Identity = { ...contractor, attributes: { repository: 'other/app' } };
const staff: Identity = { kind: 'oidc', subject: 'carol', groups: ['staff'], attributes: {}, expiresAt: null };

function req(over: Partial<Omit<RuleRequest, 'prompt'>> & { body?: unknown } = {}): RuleRequest {
  const path = over.path ?? '/v1/chat/completions';
  const view = promptOfJson(over.body ?? { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }, path);
  return { host: over.host ?? 'api.openai.com', method: over.method ?? 'POST', path, identity: over.identity ?? contractor, prompt: () => view };
}
const chat = (content: unknown, model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content }] });

const rows: [string, RuleRequest, string | null][] = [
  ['contains, case-insensitive', req({ body: chat('please drop table users;') }), 'no-destructive-sql'],
  ['regex', req({ body: chat('run RM  -rf / now') }), 'no-destructive-sql'],
  ['content parts', req({ body: chat([{ type: 'text', text: 'x' }, { type: 'text', text: 'DROP TABLE t' }]) }), 'no-destructive-sql'],
  ['tool result message', req({ body: { model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'c1', content: 'output: DROP TABLE t' }] } }), 'no-destructive-sql'],
  ['system prompt', req({ body: { model: 'gpt-4o', messages: [{ role: 'system', content: 'DROP TABLE' }, { role: 'user', content: 'hi' }] } }), 'no-destructive-sql'],
  ['Azure wildcard host', req({ host: 'myres.openai.azure.com', body: chat('drop table x') }), 'no-destructive-sql'],
  ['responses path with trailing *', req({ path: '/v1/responses', body: { model: 'gpt-4o', input: 'DROP TABLE x' } }), 'no-destructive-sql'],
  ['responses input items + instructions', req({ path: '/v1/responses', body: { model: 'gpt-4o', instructions: 'DROP TABLE', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] } }), 'no-destructive-sql'],
  ['function_call_output', req({ path: '/v1/responses', body: { model: 'gpt-4o', input: [{ type: 'function_call_output', call_id: 'c', output: 'rm -rf /' }] } }), 'no-destructive-sql'],
  ['other model falls through to the rate rule', req({ body: chat('drop table x', 'o3') }), 'contractors-rate'],
  ['other host', req({ host: 'api.anthropic.com', path: '/v1/messages', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'drop table' }] } }), 'contractors-rate'],
  ['GET is not matched by methods [POST]', req({ method: 'GET', body: chat('drop table') }), 'contractors-rate'],
  ['other path', req({ path: '/v1/embeddings', body: { model: 'gpt-4o', input: 'drop table' } }), 'contractors-rate'],
  ['claim glob does not match', req({ identity: contractorOtherRepo, body: chat('drop table') }), 'contractors-rate'],
  ['staff: not in the groups or subjects', req({ identity: staff, body: chat('drop table') }), null],
  ['the id of a tool call is not prompt text', req({ identity: staff, body: { model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'deploy to production', content: 'ok' }] } }), null],
  ['prompt rule without other conditions (anyone)', req({ identity: staff, body: chat('Please deploy to production') }), 'prod-deploys'],
  ['anthropic system + tool_result', req({ identity: staff, host: 'api.anthropic.com', path: '/v1/messages', body: { model: 'claude', system: [{ type: 'text', text: 'x' }], messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'deploy to PRODUCTION' }] }] }] } }), 'prod-deploys'],
  ['gemini contents + systemInstruction', req({ identity: staff, host: 'generativelanguage.googleapis.com', path: '/v1beta/models/gemini-2.0-flash:generateContent', body: { systemInstruction: { parts: [{ text: 'deploy to production' }] }, contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } }), 'prod-deploys'],
  ['base64 media is not prompt text', req({ identity: staff, body: { model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:deploy to production' } }] }] } }), null],
  ['anonymous caller, harmless prompt', req({ identity: ANONYMOUS, body: chat('hello') }), null],
];

t.test('first match wins; no match = allow', async (t) => {
  for (const [name, r, want] of rows) {
    const ev = policy.rules.evaluate(r);
    t.equal(ev.rule?.name ?? null, want, name);
    if (want) t.ok(ev.why.length > 0, `${name}: says why`);
  }
});

t.test('subjects (globs) match when groups do not; claims narrow', async (t) => {
  const p = Policy.fromYaml(
    'rules:\n  - name: r\n    match: { identity: { groups: [a], subjects: ["svc-*"], claims: { repository: ["org/*", "x/y"] } } }\n    action: deny\n',
  );
  const id = (subject: string | null, groups: string[], repo?: string): Identity => ({ kind: 'oidc', subject, groups, attributes: repo ? { repository: repo } : {}, expiresAt: null });
  const table: [Identity, boolean][] = [
    [id('svc-ci', [], 'org/one'), true],
    [id('bob', ['a'], 'x/y'), true],
    [id('bob', ['b'], 'org/one'), false],
    [id('svc-ci', [], 'x/z'), false],
    [id('svc-ci', []), false],
    [ANONYMOUS, false],
  ];
  for (const [identity, want] of table) t.equal(p.rules.evaluate(req({ identity })).rule !== null, want, `${identity.subject} ${identity.groups} ${identity.attributes.repository}`);
});

t.test('models glob is case-insensitive; model from the Gemini path and Azure deployment', async (t) => {
  const p = Policy.fromYaml('rules:\n  - name: m\n    match: { models: ["GPT-4o*", "gemini-*-pro"] }\n    action: deny\n');
  t.ok(p.rules.evaluate(req({ body: { model: 'gpt-4o-2024-08-06', messages: [] } })).rule);
  t.notOk(p.rules.evaluate(req({ body: { model: 'gpt-4', messages: [] } })).rule);
  t.ok(p.rules.evaluate(req({ path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', body: { contents: [] } })).rule);
  t.ok(p.rules.evaluate(req({ path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=1', body: { messages: [] } })).rule);
  t.notOk(p.rules.evaluate(req({ body: { messages: [] } })).rule, 'no model named: a models rule does not match');
});

t.test('an undecodable body matches restrictive prompt rules (fail closed), never allow rules', async (t) => {
  const p = Policy.fromYaml(
    'rules:\n  - name: ok\n    match: { prompt: { contains: ["fine"] } }\n    action: allow\n  - name: block\n    match: { prompt: { contains: ["x"] } }\n    action: deny\n',
  );
  const unreadable = { host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', identity: ANONYMOUS, prompt: () => ({ text: null, excerpt: '', model: null }) };
  const ev = p.rules.evaluate(unreadable);
  t.equal(ev.rule?.name, 'block');
  t.match(ev.why.join(' '), /could not be decoded/);
});

t.test('the trace explains every rule looked at', async (t) => {
  const ev = policy.rules.evaluate(req({ identity: staff, body: chat('deploy to production') }));
  t.same(ev.trace.map((x) => [x.rule, x.matched]), [['no-destructive-sql', false], ['prod-deploys', true]]);
  t.match(ev.trace[0]!.why.join(' '), /carol is in none of groups \["contractors"\]/);
  t.match(ev.trace[1]!.why.join(' '), /prompt contains "deploy to production"/);
});
