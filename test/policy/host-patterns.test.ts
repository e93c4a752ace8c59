// Host patterns with a `*` inside a label (`*-aiplatform.googleapis.com`, `bedrock-runtime.*.amazonaws.com`):
// a `*` matches within one DNS label only, never a dot; a leading whole-label `*.` keeps its meaning (one or
// more labels); the two rightmost labels are literal. Checked on the matcher and through the policy.
import t from 'tap';
import { HostSet, Policy, ConfigError, normalizeHost, parseHostPattern } from '../../src/policy/index.js';

const vertex = new HostSet(['*-aiplatform.googleapis.com']);
const bedrock = new HostSet(['bedrock-runtime.*.amazonaws.com']);
/** What the proxy does: normalise the CONNECT host, refuse what does not normalise, then match. */
const decide = (set: HostSet, raw: string): string | null => {
  const h = normalizeHost(raw);
  return h === null ? null : set.match(h);
};

t.test('an infix "*" matches inside its label', async (t) => {
  for (const h of ['us-east5-aiplatform.googleapis.com', 'europe-west1-aiplatform.googleapis.com', 'x-aiplatform.googleapis.com']) {
    t.equal(decide(vertex, h), '*-aiplatform.googleapis.com', h);
  }
  for (const h of ['bedrock-runtime.us-east-1.amazonaws.com', 'bedrock-runtime.eu-central-2.amazonaws.com']) {
    t.equal(decide(bedrock, h), 'bedrock-runtime.*.amazonaws.com', h);
  }
});

t.test('case and a trailing dot are normalised on both sides', async (t) => {
  t.equal(decide(vertex, 'US-EAST5-AIPLATFORM.GoogleAPIs.com.'), '*-aiplatform.googleapis.com');
  t.equal(decide(bedrock, 'Bedrock-Runtime.US-WEST-2.amazonaws.com.'), 'bedrock-runtime.*.amazonaws.com');
  const upper = new HostSet(['*-AIPlatform.GOOGLEAPIS.com.']);
  t.equal(upper.patterns[0]!.text, '*-aiplatform.googleapis.com');
  t.equal(decide(upper, 'us-central1-aiplatform.googleapis.com'), '*-aiplatform.googleapis.com');
});

t.test('a "*" never crosses a dot, and tricks do not match', async (t) => {
  const no = [
    'aiplatform.googleapis.com', // the bare label: no "-" before it
    '-aiplatform.googleapis.com', // not a valid host
    'a.b-aiplatform.googleapis.com', // "*" would have to eat a dot
    'evil.com.us-aiplatform.googleapis.com', // more labels than the pattern
    'x-aiplatform.googleapis.com.evil.com', // the pattern as a prefix of another domain
    'x-aiplatform.googleapis.com.', // (this one is fine: the trailing dot is stripped) — checked below
    'evil.com/x-aiplatform.googleapis.com', // a path smuggled into the host
    'evil.com\\x-aiplatform.googleapis.com',
    'evil.com#x-aiplatform.googleapis.com',
    'evil.com@x-aiplatform.googleapis.com',
    'x-aiplatform.googleapis.com:443',
    'x-aiplatformxgoogleapis.com',
    'x-aiplatform.googleapis.co',
    'x-aiplatform.googleapis.com.evil',
    'x-aiplatform-googleapis.com',
    'x-aiplatform.evilgoogleapis.com',
  ];
  for (const h of no) {
    if (h === 'x-aiplatform.googleapis.com.') continue;
    t.equal(decide(vertex, h), null, `normalised: ${h}`);
    t.equal(vertex.match(h.toLowerCase()), null, `raw (even if a caller forgot to normalise): ${h}`);
  }
  t.equal(decide(vertex, 'x-aiplatform.googleapis.com.'), '*-aiplatform.googleapis.com');

  for (const h of [
    'bedrock-runtime.amazonaws.com', // "*" is one whole label, never none
    'bedrock-runtime.a.b.amazonaws.com', // nor two
    'bedrock-runtime.evil.com/x.amazonaws.com',
    'bedrock-runtime.us-east-1.amazonaws.com.evil.com',
    'evil.bedrock-runtime.us-east-1.amazonaws.com',
    'bedrock-runtimex.us-east-1.amazonaws.com',
    'bedrock.us-east-1.amazonaws.com',
  ]) {
    t.equal(decide(bedrock, h), null, h);
    t.equal(bedrock.match(h), null, `raw: ${h}`);
  }
});

t.test('a wildcard never matches an IP address', async (t) => {
  for (const p of ['*.2.3.4', '*.3.4', '*.0x7f.1']) t.throws(() => parseHostPattern(p), { message: /invalid host pattern/ }, `${p} names IP addresses: refused`);
  const ip = new HostSet(['*.example', '1*.2.3.example']);
  t.equal(ip.match('1.2.3.example'), '1*.2.3.example');
  for (const h of ['1.2.3.4', '10.2.3.4', '::1']) t.equal(ip.match(h), null, h);
  t.equal(new HostSet(['1.2.3.4']).match('1.2.3.4'), '1.2.3.4', 'an exact IP still matches');
});

t.test('a leading "*." keeps its meaning, alone or with infix labels', async (t) => {
  const s = new HostSet(['*.openai.azure.com']);
  t.equal(s.match('a.openai.azure.com'), '*.openai.azure.com');
  t.equal(s.match('a.b.openai.azure.com'), '*.openai.azure.com');
  t.equal(s.match('openai.azure.com'), null);
  const both = new HostSet(['*.bedrock-runtime.*.amazonaws.com']);
  t.equal(both.match('vpce-1.bedrock-runtime.us-east-1.amazonaws.com'), '*.bedrock-runtime.*.amazonaws.com');
  t.equal(both.match('a.b.bedrock-runtime.us-east-1.amazonaws.com'), '*.bedrock-runtime.*.amazonaws.com');
  t.equal(both.match('bedrock-runtime.us-east-1.amazonaws.com'), null, 'the leading "*." asks for at least one label');
  const mid = new HostSet(['api*.example.com', 'a*b*c.example.com']);
  t.equal(mid.match('api.example.com'), 'api*.example.com', 'a "*" may match no characters');
  t.equal(mid.match('api-eu.example.com'), 'api*.example.com');
  t.equal(mid.match('a-b-c.example.com'), 'a*b*c.example.com');
  t.equal(mid.match('a.b.c.example.com'), null);
});

t.test('invalid patterns are refused at load with a reason', async (t) => {
  const bad: [string, RegExp][] = [
    ['api.*.com', /two rightmost labels must be literal/],
    ['*-x.com', /two literal labels to its right/],
    ['x.*', /two literal labels to its right/],
    ['a.b.*', /two rightmost labels must be literal/],
    ['x.example.c*m', /two rightmost labels must be literal/],
    ['*', /invalid host pattern/],
    ['**.example.com', /"\*\*" is not allowed/],
    ['a**b.example.com', /"\*\*" is not allowed/],
    ['a/*.example.com', /may only hold letters, digits/],
    ['a*.exa mple.com', /not a valid host label/],
    ['a*..example.com', /not a valid host label/],
    ['a*.b\u00fccher\u0000.example.com', /not a valid host label/],
    ['a*.-bad.example.com', /not a valid host label/],
    ['(a*).example.com', /may only hold letters, digits/],
  ];
  for (const [p, why] of bad) t.throws(() => parseHostPattern(p), { message: why }, p);
  for (const key of ['intercept', 'tunnel', 'allow_private']) {
    t.throws(() => Policy.fromYaml(`${key}:\n  - "api.*.com"\n`, 'p.yaml'), ConfigError, key);
  }
  t.throws(() => Policy.fromYaml('hosts:\n  "*-x.com": { signed_body: pass }\n', 'p.yaml'), { message: /two literal labels/ });
});

t.test('through the policy: decisions and per-host settings', async (t) => {
  const p = Policy.fromYaml(
    [
      'egress: enforce',
      'intercept: ["*-aiplatform.googleapis.com", "bedrock-runtime.*.amazonaws.com"]',
      'tunnel: ["*.googleapis.com"]',
      'hosts:',
      '  "*.googleapis.com": { mask: { response: false, request: false } }',
      '  "*-aiplatform.googleapis.com": { mask: { request: false, response: true } }',
      '  us-east5-aiplatform.googleapis.com: { mask: { request: true, response: true } }',
      '',
    ].join('\n'),
  );
  t.equal(p.decide('us-east5-aiplatform.googleapis.com').action, 'intercept');
  t.equal(p.decide('us-east5-aiplatform.googleapis.com').rule, '*-aiplatform.googleapis.com');
  t.equal(p.decide('bedrock-runtime.us-east-1.amazonaws.com').action, 'intercept');
  t.equal(p.decide('storage.googleapis.com').action, 'tunnel');
  t.equal(p.decide('bedrock-runtime.evil.com').action, 'deny');
  t.same(p.maskSides('storage.googleapis.com'), { request: false, response: false });
  t.same(p.maskSides('europe-west4-aiplatform.googleapis.com'), { request: false, response: true }, 'infix wins over "*."');
  t.same(p.maskSides('us-east5-aiplatform.googleapis.com'), { request: true, response: true }, 'exact wins over infix');
});

t.test('rules match infix host patterns too', async (t) => {
  const p = Policy.fromYaml('rules:\n  - name: no-vertex\n    action: deny\n    match:\n      hosts: ["*-aiplatform.googleapis.com"]\n');
  t.ok(p.rules, 'loaded');
  t.throws(() => Policy.fromYaml('rules:\n  - name: a\n    action: deny\n    match:\n      hosts: ["x.*.com"]\n', 'p.yaml'), { message: /rules\.0\.match\.hosts\.0: invalid host pattern/ });
});

t.test('IDN labels beside a "*" are compared as punycode', async (t) => {
  const s = new HostSet(['*-api.bücher.example']);
  t.equal(s.patterns[0]!.text, '*-api.xn--bcher-kva.example');
  t.equal(decide(s, 'eu-api.BÜCHER.example'), '*-api.xn--bcher-kva.example');
});
