// Policy rule validation: file:line: key: message, unknown keys refused, unsafe regexes refused at load.
import t from 'tap';
import { Policy, ConfigError } from '../../src/policy/index.js';

const load = (yaml: string) => () => Policy.fromYaml(yaml, 'p.yaml');

t.test('unknown keys and bad values name the file, line and key', async (t) => {
  t.throws(load('rules:\n  - name: a\n    action: deny\n    mtach: {}\n'), { message: /^p\.yaml:4: rules\.0\.mtach: unknown key "mtach"/ });
  t.throws(load('rules:\n  - name: a\n    action: block\n'), { message: /^p\.yaml:3: rules\.0\.action:/ });
  t.throws(load('rules:\n  - name: a\n    action: deny\n    match:\n      paths: ["/v1/*/x"]\n'), { message: /^p\.yaml:5: rules\.0\.match\.paths\.0: must start with \/ and may only end with \*/ });
  t.throws(load('rules:\n  - name: a\n    action: deny\n    match:\n      hosts: ["api.*.com"]\n'), { message: /^p\.yaml:5: rules\.0\.match\.hosts\.0: invalid host pattern/ });
  t.throws(load('rules:\n  - name: a\n    action: require_approval\n    approval: { timeout: soon }\n'), { message: /^p\.yaml:4: rules\.0\.approval\.timeout: invalid duration "soon"/ });
  t.throws(load('rules:\n  - name: a\n    action: deny\n    approval: { timeout: 5m }\n'), { message: /rules\.0\.approval: only for action: require_approval/ });
  t.throws(load('rules:\n  - name: a\n    action: deny\n  - name: a\n    action: allow\n'), { message: /^p\.yaml:4: rules\.1\.name: duplicate rule name "a"/ });
  t.throws(load('rules:\n  - name: a\n    action: allow\n    record: none\n'), { message: /rules\.0\.record/ });
  t.throws(load('rules:\n  - name: a\n    action: allow\n    rate_limit: { requests_per_minute: 0 }\n'), { message: /rules\.0\.rate_limit\.requests_per_minute/ });
  t.throws(load('approvals:\n  webhook: { url: "ftp://x", secret: "0123456789abcdef" }\n'), { message: /approvals\.webhook\.url/ });
  t.throws(load('approvals:\n  webhook: { url: "https://x.example", secret: "short" }\n'), { message: /approvals\.webhook\.secret: use a secret of at least 16/ });
});

t.test('catastrophic and non-linear regexes are refused at load with a clear error', async (t) => {
  const refused = ['(a+)\\1', '(?=a)b', '(?<!x)y', 'a++', '((a{1000}){1000}){1000}', '(a{100}){100}', '[unclosed'];
  for (const re of refused) {
    const yaml = `rules:\n  - name: r\n    action: deny\n    match:\n      prompt:\n        regex: [${JSON.stringify(re)}]\n`;
    t.throws(load(yaml), ConfigError, re);
    t.throws(load(yaml), { message: /^p\.yaml:6: rules\.0\.match\.prompt\.regex\.0: regex refused \(only linear-time RE2 syntax/ }, re);
  }
});

t.test('classic ReDoS shapes load and run in linear time on adversarial input', async (t) => {
  // With a backtracking engine each of these takes exponential time on the input below; RE2 does not
  // backtrack, so the whole loop finishes in well under the test timeout.
  const shapes = ['(a+)+$', '(a|a)+$', '(a|aa)+$', '(.*a){12}$', '^(\\w+\\s?)*$'];
  const adversarial = 'a'.repeat(50_000) + '!';
  for (const re of shapes) {
    const p = Policy.fromYaml(`rules:\n  - name: r\n    action: deny\n    match:\n      prompt:\n        regex: [${JSON.stringify(re)}]\n`);
    const ev = p.rules.evaluate({ host: 'h', method: 'POST', path: '/', identity: { kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null }, prompt: () => ({ text: adversarial, excerpt: '', model: null }) });
    t.equal(ev.rule, null, `${re} answered (no match) on 50k adversarial characters`);
  }
});

t.test('the issue example loads as written', async (t) => {
  const p = Policy.load(new URL('../fixtures/policy/issue-example.yaml', import.meta.url).pathname);
  t.same(p.rules.rules.map((r) => [r.name, r.action, r.record, r.requestsPerMinute]), [
    ['no-destructive-sql', 'deny', 'full', null],
    ['prod-deploys', 'require_approval', 'full', null],
    ['contractors-rate', 'allow', 'full', 30],
  ]);
  t.same(p.rules.rules[1]!.approval, { timeoutMs: 300_000, approvers: { groups: ['sre'], subjects: [] }, windowMs: 1_800_000 });
});
