import t from 'tap';
import { Policy, ConfigError, normalizeHost, defaultPolicy } from '../../src/policy/index.js';

t.test('host normalisation', async (t) => {
  t.equal(normalizeHost('API.OpenAI.com.'), 'api.openai.com');
  t.equal(normalizeHost('bücher.example'), 'xn--bcher-kva.example');
  t.equal(normalizeHost('[::1]'), '::1');
  t.equal(normalizeHost('bad host'), null);
  t.equal(normalizeHost(''), null);
  t.equal(normalizeHost('a..b'), null);
});

t.test('default policy intercepts the AI hosts and tunnels the rest in audit mode', async (t) => {
  const p = defaultPolicy();
  t.equal(p.decide('api.openai.com').action, 'intercept');
  t.equal(p.decide('myres.openai.azure.com').action, 'intercept');
  t.equal(p.decide('openai.azure.com').action, 'tunnel', 'wildcard does not match the bare suffix');
  t.equal(p.decide('api.individual.githubcopilot.com').action, 'intercept');
  t.equal(p.decide('evilapi.openai.com').action, 'tunnel');
  t.equal(p.decide('example.com').action, 'tunnel');
});

t.test('enforce mode denies unlisted hosts and allows tunnel entries', async (t) => {
  const p = Policy.fromYaml('egress: enforce\ntunnel: ["github.com", "*.npmjs.org"]\n');
  t.equal(p.decide('example.com').action, 'deny');
  t.match(p.decide('example.com').reason, /not allowed by policy/);
  t.equal(p.decide('github.com').action, 'tunnel');
  t.equal(p.decide('registry.npmjs.org').action, 'tunnel');
  t.equal(p.decide('api.anthropic.com').action, 'intercept');
});

t.test('validation errors name the key and line', async (t) => {
  t.throws(() => Policy.fromYaml('egress: audit\nintercpt:\n  - a.com\n', 'p.yaml'), { message: /p\.yaml:2: .*intercpt/ });
  t.throws(() => Policy.fromYaml('egress: audit\nauth: maybe\n', 'p.yaml'), { message: /p\.yaml:2: auth:/ });
  t.throws(() => Policy.fromYaml('intercept:\n  - "api.*.com"\n', 'p.yaml'), ConfigError);
  t.throws(() => Policy.fromYaml('intercept: [\n', 'p.yaml'), { message: /invalid YAML/ });
});

t.test('per-host settings merge with exact entries winning', async (t) => {
  const p = Policy.fromYaml(
    'hosts:\n  "*.openai.azure.com":\n    mask: {response: false}\n  a.openai.azure.com:\n    mask: {response: true}\n',
  );
  t.same(p.maskSides('b.openai.azure.com'), { request: true, response: false });
  t.same(p.maskSides('a.openai.azure.com'), { request: true, response: true });
});
