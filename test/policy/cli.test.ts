// `wiretrail policy check|explain` as seen from outside: exit codes, FILE:LINE: key: message lines,
// and the dry-run decision for a request file.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliHere } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'wt-policy-cli-'));
const example = new URL('../fixtures/policy/issue-example.yaml', import.meta.url).pathname;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

t.test('check: exit 0 for a valid file (real entry point)', async (t) => {
  const r = await runCli(['policy', 'check', example]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /valid \(3 rules\)/);
});

t.test('check: exit 1 with one FILE:LINE: key: message line per problem', async (t) => {
  const bad = file('bad.yaml', 'rules:\n  - name: a\n    action: nope\n  - name: b\n    action: deny\n    match:\n      prompt: { regex: ["(x)\\\\1"] }\n    colour: red\n');
  const r = await runCliHere(['policy', 'check', bad]);
  t.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 3, r.stderr);
  t.match(lines[0], new RegExp(`^${bad}:3: rules\\.0\\.action: `));
  t.match(r.stderr, new RegExp(`${bad}:7: rules\\.1\\.match\\.prompt\\.regex\\.0: regex refused`));
  t.match(r.stderr, new RegExp(`${bad}:8: rules\\.1\\.colour: unknown key "colour"`));
  t.equal((await runCliHere(['policy', 'check', join(dir, 'missing.yaml')])).code, 1);
  t.equal((await runCliHere(['policy', 'check'])).code, 2, 'usage error');
});

t.test('explain: which rule applies and why, text and --json', async (t) => {
  const req = file('req.json', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'DROP TABLE users' }] }));
  const claims = file('claims.json', JSON.stringify({ sub: 'bob', groups: ['contractors'], repository: 'org/app' }));
  const r = await runCliHere(['policy', 'explain', '--policy', example, '--request', req, '--identity', claims, '--host', 'api.openai.com']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /rule 1 no-destructive-sql: MATCH — host api\.openai\.com matches api\.openai\.com; method POST; path \/v1\/chat\/completions matches/);
  t.match(r.stdout, /prompt contains "DROP TABLE"/);
  t.match(r.stdout, /decision: deny \(rule no-destructive-sql\) — reason: destructive SQL in prompt/);

  const j = await runCliHere(['policy', 'explain', '--policy', example, '--request', req, '--json']);
  const out = JSON.parse(j.stdout) as { decision: string; rule: string | null; trace: { rule: string; matched: boolean }[] };
  t.equal(out.decision, 'allow', 'anonymous: not a contractor');
  t.equal(out.rule, null);
  t.equal(out.trace.length, 3);

  const env = file('env.json', JSON.stringify({ method: 'POST', host: 'api.anthropic.com', path: '/v1/messages', body: { model: 'claude', messages: [{ role: 'user', content: 'deploy to production please' }] } }));
  const e = await runCliHere(['policy', 'explain', '--policy', example, '--request', env, '--json']);
  const eo = JSON.parse(e.stdout) as { decision: string; rule: string; approval: { timeoutMs: number } };
  t.same([eo.decision, eo.rule, eo.approval.timeoutMs], ['require_approval', 'prod-deploys', 300_000]);

  t.equal((await runCliHere(['policy', 'explain', '--policy', example])).code, 2, '--request is required');
  const broken = file('broken.json', '{');
  const b = await runCliHere(['policy', 'explain', '--policy', example, '--request', broken]);
  t.equal(b.code, 1);
  t.match(b.stderr, /not valid JSON/);
});
