// identity.by_source: a client that sends no Proxy-Authorization (Codex ≤ 0.144) is identified by its address
// with `auth: required`, recorded with `via: source-address`; other addresses are still refused; a header
// that is sent is verified as usual (never downgraded to the address). Distinct loopback source addresses
// (127.0.0.2, 127.0.0.3) stand in for runners.
import t from 'tap';
import { spawn } from 'node:child_process';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { SourceIdentities } from '../../src/identity/by-source.js';
import { Policy } from '../../src/policy/index.js';

const loadPolicyText = (text: string) => Policy.fromYaml(text, 'policy.yaml');

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

t.test('matching: addresses, CIDRs, IPv4-mapped IPv6, first entry wins', async (t) => {
  const s = new SourceIdentities([
    { source: '127.0.0.2', subject: 'runner-a', groups: ['ci'] },
    { source: ['10.1.0.0/16', 'fd00::/8'], subject: 'pool', groups: [] },
    { source: '10.0.0.0/8', subject: 'wide' },
  ]);
  t.equal(s.match('127.0.0.2')?.subject, 'runner-a');
  t.equal(s.match('::ffff:127.0.0.2')?.subject, 'runner-a', 'IPv4-mapped');
  t.equal(s.match('127.0.0.3'), null);
  t.equal(s.match('10.1.200.7')?.subject, 'pool');
  t.equal(s.match('10.2.0.1')?.subject, 'wide');
  t.equal(s.match('fd12::1')?.subject, 'pool');
  t.equal(s.match('fe80::1'), null);
  t.equal(s.match(undefined), null);
  t.equal(s.match('not-an-ip'), null);
  const id = s.match('127.0.0.2')!;
  t.same({ kind: id.kind, via: id.via, groups: id.groups }, { kind: 'source', via: 'source-address', groups: ['ci'] });
});

t.test('policy: a bad source is an error naming it', async (t) => {
  t.throws(() => loadPolicyText('auth: required\nidentity:\n  by_source:\n    - source: 10.0.0.0/33\n      subject: x\n'), /identity\.by_source.*source.*IP address or CIDR/s);
  t.throws(() => loadPolicyText('identity:\n  by_source:\n    - source: 127.0.0.2\n'), /subject/);
  t.doesNotThrow(() => loadPolicyText('identity:\n  by_source:\n    - source: [127.0.0.2, "::1"]\n      subject: r\n      groups: [ci]\n'));
});

t.test('auth: required: the listed address gets its identity, another address gets 407', async (t) => {
  const mock = await startMockUpstream({ handler: openaiHandler() });
  const policy = 'auth: required\nidentity:\n  by_source:\n    - source: 127.0.0.2/32\n      subject: runner-a\n      groups: [ci, codex]\n';
  const h = await startHarness({ policy, upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
  t.teardown(async () => {
    await h.stop();
    await mock.close();
  });
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'from a runner' }] });
  const base = ['--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'content-type: application/json', '-d', body, 'https://api.openai.com/v1/chat/completions'];
  const ok = await curl(['--interface', '127.0.0.2', ...base]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /echo: from a runner/);

  const other = await curl(['--interface', '127.0.0.3', '-o', '/dev/null', '-w', '%{http_connect}', ...base]);
  t.match(other.stdout, /407/, 'an unlisted address needs credentials');

  // A header that is sent is checked, never replaced by the address.
  const bad = await curl(['--interface', '127.0.0.2', '--proxy-user', 'wt:not-a-real-credential', '-o', '/dev/null', '-w', '%{http_connect}', ...base]);
  t.match(bad.stdout, /407/, 'bad credentials from a listed address are still refused');

  const sessions = await allSessions(h);
  const served = sessions.find((recs) => recs.some((r) => r.kind === 'request'))!;
  const connect = served.find((r) => r.kind === 'connect')!;
  t.match(connect.meta.identity, { kind: 'source', via: 'source-address', subject: 'runner-a', groups: ['ci', 'codex'] });
  t.equal(connect.meta.client, '127.0.0.2');
  const request = served.find((r) => r.kind === 'request')!;
  t.match(request.meta.identity, { via: 'source-address', subject: 'runner-a' });
  const list = await h.recorder.listSessions();
  t.ok(list.some((s) => s.users.includes('runner-a')), 'sessions list names the subject');
  const refused = sessions.filter((recs) => recs.some((r) => r.meta.status === 407));
  t.equal(refused.length, 2, 'both refusals recorded');
});
