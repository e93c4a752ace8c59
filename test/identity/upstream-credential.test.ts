import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANONYMOUS, CredentialError, clientCredentialFinding, createAuthenticator, looksLikeRealKey, upstreamCredential, type Identity } from '../../src/identity/index.js';
import { policyOf, tempDir } from './helpers/env.js';

const dir = tempDir(t);
const KEY = 'sk-proj-' + 'Q7vR2mX9kL4pN8sT1wY6zB3cD5fG0hJ'.repeat(2);
const AZURE_KEY = '3f9a1c7e5b2d4086a1c3e5f7092b4d6f';
const secretFile = join(dir, 'azure-key');
writeFileSync(secretFile, AZURE_KEY + '\n', { mode: 0o600 });
process.env.WT_TEST_OPENAI_KEY = KEY;
process.env.WT_TEST_ML_KEY = 'sk-ant-ml-' + 'a1B2c3D4e5F6g7H8'.repeat(3);
t.teardown(() => {
  delete process.env.WT_TEST_OPENAI_KEY;
  delete process.env.WT_TEST_ML_KEY;
});

const user = (groups: string[]): Identity => ({ kind: 'oidc', subject: 'u', groups, attributes: {}, expiresAt: null });

t.test('keys come from env and files; client credential headers are stripped', async (t) => {
  const p = policyOf({
    hosts: {
      'api.openai.com': { credentials: [{ header: 'Authorization', value: 'Bearer ${env:WT_TEST_OPENAI_KEY}' }] },
      '*.openai.azure.com': { credentials: [{ header: 'api-key', value: '${file:' + secretFile + '}' }], strip_headers: ['X-Org-Key'] },
      'api.anthropic.com': {
        credentials: [
          { header: 'x-api-key', value: '${env:WT_TEST_ML_KEY}', groups: ['ml'] },
          { header: 'x-api-key', value: '${env:WT_TEST_OPENAI_KEY}', groups: ['dev'] },
        ],
      },
      'ollama.internal': { strip_headers: ['x-team-key'] },
    },
  });
  const openai = upstreamCredential(p.settingsFor('api.openai.com'), ANONYMOUS, 'api.openai.com');
  t.same(openai.set, { authorization: `Bearer ${KEY}` });
  t.same(new Set(openai.strip), new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'x-goog-api-key']));

  const azure = upstreamCredential(p.settingsFor('res.openai.azure.com'), ANONYMOUS, 'res.openai.azure.com');
  t.same(azure.set, { 'api-key': AZURE_KEY }, 'file content, trailing newline trimmed');
  t.ok(azure.strip.includes('x-org-key') && azure.strip.includes('authorization'));

  t.same(upstreamCredential(p.settingsFor('api.anthropic.com'), user(['dev', 'ml']), 'api.anthropic.com').set, { 'x-api-key': process.env.WT_TEST_ML_KEY }, 'first matching entry wins');
  t.same(upstreamCredential(p.settingsFor('api.anthropic.com'), user(['dev']), 'api.anthropic.com').set, { 'x-api-key': KEY });
  t.throws(() => upstreamCredential(p.settingsFor('api.anthropic.com'), user(['sales']), 'api.anthropic.com'), { name: 'CredentialError', status: 403, message: /no upstream credential for api\.anthropic\.com/ });

  const none = upstreamCredential(p.settingsFor('ollama.internal'), ANONYMOUS, 'ollama.internal');
  t.same(none, { set: {}, strip: ['x-team-key'] }, 'no credentials: the client keeps its own, only strip_headers go');

  // A rotated secret file is picked up.
  writeFileSync(secretFile, 'b'.repeat(32) + '\n');
  t.same(upstreamCredential(p.settingsFor('res.openai.azure.com'), ANONYMOUS, 'res.openai.azure.com').set, { 'api-key': 'b'.repeat(32) });
  writeFileSync(secretFile, AZURE_KEY + '\n');
});

t.test('a missing env var or file is a clear error that never carries a secret', async (t) => {
  const p = policyOf({
    hosts: {
      'a.example': { credentials: [{ header: 'authorization', value: 'Bearer ${env:WT_TEST_UNSET_VAR}' }] },
      'b.example': { credentials: [{ header: 'api-key', value: '${file:' + join(dir, 'nope') + '}' }] },
      'c.example': { credentials: [{ header: 'api-key', value: '${env:WT_TEST_OPENAI_KEY}:${file:' + join(dir, 'nope') + '}' }] },
    },
  });
  delete process.env.WT_TEST_UNSET_VAR;
  t.throws(() => upstreamCredential(p.settingsFor('a.example'), ANONYMOUS, 'a.example'), {
    message: 'upstream credential for a.example: environment variable WT_TEST_UNSET_VAR is not set',
    status: 502,
  });
  t.throws(() => upstreamCredential(p.settingsFor('b.example'), ANONYMOUS, 'b.example'), { message: /file .*nope cannot be read \(ENOENT\)/ });
  try {
    upstreamCredential(p.settingsFor('c.example'), ANONYMOUS, 'c.example');
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof CredentialError);
    t.notOk((err as Error).message.includes(KEY), 'the resolved part is not in the message');
  }
});

t.test('templates are checked at load: keys never live in the policy text', async (t) => {
  const load = (value: string) =>
    createAuthenticator({ policy: policyOf({ hosts: { 'api.openai.com': { credentials: [{ header: 'authorization', value }] } } }), dataDir: join(dir, 'd') });
  const literal = 'Bearer sk-live-abcdefghijklmnopqrstuvwxyz012345';
  await t.rejects(load(literal), { message: /hosts\.api\.openai\.com\.credentials\[0\]\.value: the value must come from \$\{env:NAME\} or \$\{file:\/path\}/ });
  await t.rejects(load('sk-live-abcdefghijklmnopqrstuvwxyz012345${env:X}'), { message: /literal text looks like a key/ });
  await t.rejects(load('Bearer ${vault:secret/x}'), { message: /only \$\{env:NAME\} and \$\{file:\/path\}/ });
  await t.rejects(load('${env:1BAD}'), { message: /not a valid environment variable name/ });
  await t.rejects(load('${file:relative/path}'), { message: /must be absolute/ });
  try {
    await load(literal);
  } catch (err) {
    t.notOk((err as Error).message.includes('sk-live'), 'the error does not repeat the literal');
  }
  const ok = await load('Bearer ${env:WT_TEST_OPENAI_KEY}');
  await ok.close();
});

t.test('client key findings are masked and skip placeholders', async (t) => {
  t.equal(clientCredentialFinding({ authorization: `Bearer ${KEY}` }), `authorization: Bearer sk-pro…(${KEY.length} chars)`);
  t.equal(clientCredentialFinding({ 'x-api-key': process.env.WT_TEST_ML_KEY }), `x-api-key: sk-ant…(${process.env.WT_TEST_ML_KEY!.length} chars)`);
  t.equal(clientCredentialFinding({ 'api-key': AZURE_KEY }), 'api-key: 3f9a…(32 chars)', 'at most an eighth of a short key');
  t.equal(clientCredentialFinding({ 'x-goog-api-key': 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY' }), 'x-goog-api-key: AIza…(39 chars)');
  for (const placeholder of ['sk-placeholder', 'dummy', 'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'wiretrail', 'your-api-key-here-000000000', 'sk-fake-key-for-wiretrail-proxy-123456', 'EMPTY', 'none', '<YOUR_KEY>', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']) {
    t.equal(clientCredentialFinding({ authorization: `Bearer ${placeholder}`, 'x-api-key': placeholder }), null, placeholder);
  }
  t.equal(clientCredentialFinding({ 'proxy-authorization': `Bearer ${KEY}` }), null, 'the proxy credential is not a client key');
  t.equal(clientCredentialFinding({ authorization: 'Bearer wt_' + 'Zx9'.repeat(14) }), null, 'nor a wiretrail credential');
  t.equal(clientCredentialFinding({ 'content-type': KEY }), null, 'only credential headers are looked at');
  const both = clientCredentialFinding({ authorization: `Bearer ${KEY}`, 'x-api-key': AZURE_KEY })!;
  t.match(both, /^authorization: Bearer sk-pro….*; x-api-key: 3f9a…\(32 chars\)$/);
  t.notOk(both.includes(KEY.slice(0, 7)), 'never more than 6 characters of a key');
  t.ok(looksLikeRealKey(KEY));
  t.notOk(looksLikeRealKey('short'));
});
