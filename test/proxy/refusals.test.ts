// Every refusal says why in the standard RFC 9209 Proxy-Status header (curl -v and git show headers, not a
// CONNECT reply's body), carries a stable code, is recorded once and logged on one line.
import t from 'tap';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { rawExchange, connectTunnel, tlsOver, httpOver } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { StoreUnavailableError } from '../../src/errors/index.js';

const trusted = await startMockUpstream();
const untrusted = await startMockUpstream({ hosts: ['api.anthropic.com'] });
const h = await startHarness({
  policy: 'egress: enforce\nauth: optional\nintercept: [api.openai.com, api.anthropic.com, ssrf.test]\n',
  upstreamCa: [trusted.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${trusted.port}`, `api.anthropic.com:443:127.0.0.1:${untrusted.port}`],
});
t.teardown(async () => {
  await h.stop();
  await trusted.close();
  await untrusted.close();
});

const connect = (authority: string, extra = '') => rawExchange(h.proxy.port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);

function proxyStatus(text: string): string | undefined {
  return /^proxy-status: (.*)$/im.exec(text)?.[1]?.trim();
}

t.test('403 policy refusal of a CONNECT', async (t) => {
  const r = await connect('example.com:443');
  t.match(r.text, /^HTTP\/1\.1 403/);
  t.match(proxyStatus(r.text), /^wiretrail; error=http_request_denied; details=".*egress to example\.com is not allowed/);
  t.match(r.text, /x-wiretrail-error: WT_ERR_POLICY_DENIED/i);
});

// 403 destination_ip_prohibited (SSRF guard) is checked in memory-bounds.test.ts (plain HTTP, decided before the body).

t.test('407 with a wrong credential', async (t) => {
  const r = await connect('api.openai.com:443', `Proxy-Authorization: Basic ${Buffer.from('u:wt_not_a_real_token').toString('base64')}\r\n`);
  t.match(r.text, /^HTTP\/1\.1 407/);
  t.match(r.text, /proxy-authenticate: /i);
  t.match(proxyStatus(r.text), /^wiretrail; error=http_request_denied; details="proxy authentication required: /);
});

t.test('502 untrusted upstream certificate: tls_certificate_error', async (t) => {
  const { socket } = await connectTunnel(h.proxy.port, 'api.anthropic.com:443');
  const s = await tlsOver(socket, 'api.anthropic.com', h.caPem);
  const text = await httpOver(s, 'GET /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nConnection: close\r\n\r\n');
  t.match(text, /^HTTP\/1\.1 502/);
  t.match(proxyStatus(text), /^wiretrail; error=tls_certificate_error; details="upstream TLS certificate of api\.anthropic\.com is not trusted/);
});

t.test('421 Host mismatch inside the tunnel', async (t) => {
  const { socket } = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  const s = await tlsOver(socket, 'api.openai.com', h.caPem);
  const text = await httpOver(s, 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n');
  t.match(text, /^HTTP\/1\.1 421/);
  t.match(proxyStatus(text), /error=http_request_denied/);
});

t.test('431 on the CONNECT request', async (t) => {
  const r = await rawExchange(h.proxy.port, `CONNECT api.openai.com:443 HTTP/1.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  t.match(r.text, /^HTTP\/1\.1 431/);
  t.match(proxyStatus(r.text), /error=http_request_error/);
});

t.test('503 while the store cannot record', async (t) => {
  const rec = h.recorder;
  const original = rec.append.bind(rec);
  rec.append = async () => {
    throw new StoreUnavailableError('injected "disk" full');
  };
  t.teardown(() => {
    rec.append = original;
  });
  const r = await connect('api.openai.com:443');
  t.match(r.text, /^HTTP\/1\.1 503/);
  t.match(proxyStatus(r.text), /^wiretrail; error=proxy_internal_error; details="the audit store cannot record/);
});

t.test('each refusal is recorded with its status and stable code, and logged once', async (t) => {
  const mark = h.logs.length;
  const r = await connect('blocked.example:443');
  t.match(r.text, /^HTTP\/1\.1 403/);
  await new Promise((r) => setTimeout(r, 100));
  const lines = h.logs.slice(mark).filter((l) => l.includes('blocked.example'));
  t.equal(lines.length, 1, 'one log line for the refused connection');
  t.match(lines[0], /"code":"WT_ERR_POLICY_DENIED"/);
  const recs = (await allRecords(h)).filter((x) => x.kind === 'deny' && x.meta.target === 'blocked.example:443');
  t.equal(recs.length, 1);
  t.equal(recs[0]!.meta.status, 403);
  t.equal(recs[0]!.meta.code, 'WT_ERR_POLICY_DENIED');
});
