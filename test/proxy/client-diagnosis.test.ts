// A client that does not trust the wiretrail CA is diagnosed at once, whatever the client: curl sends an
// alert, Node's tls and undici just close the socket mid-handshake (no alert, a half-open 'end').
import t from 'tap';
import tls from 'node:tls';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const upstream = await startMockUpstream();
const HANDSHAKE_TIMEOUT = 10_000;
const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com]\n',
  upstreamCa: [upstream.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: 1 << 20, handshakeTimeoutMs: HANDSHAKE_TIMEOUT, headersTimeoutMs: 5000, tunnelIdleTimeoutMs: 60_000, upstreamIdleTimeoutMs: 60_000 } },
});
t.teardown(async () => {
  await h.stop();
  await upstream.close();
});

/** Resolves with the ms it took for a log line matching `re` to appear after `from`, or rejects after `within`. */
function logLine(re: RegExp, fromIndex: number, within: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no log line matching ${re} within ${within} ms`));
    }, within);
    const poll = setInterval(() => {
      const line = h.logs.slice(fromIndex).find((l) => re.test(l));
      if (line) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve(line);
      }
    }, 20);
  });
}

// Well under the handshake timeout: the old behaviour (hold the socket, then log handshake-timeout) fails this.
const PROMPT = HANDSHAKE_TIMEOUT / 3;

t.test('Node tls client without the CA: hint logged promptly, socket freed, recorded', async (t) => {
  const mark = h.logs.length;
  const { socket, status } = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  t.equal(status, 200);
  const err = await new Promise<Error>((resolve) => {
    const c = tls.connect({ socket, servername: 'api.openai.com' }); // system roots only: rejects our leaf
    c.once('secureConnect', () => resolve(new Error('unexpectedly trusted')));
    c.once('error', resolve);
  });
  t.match(err.message, /self.signed|unable to get|certificate/i, 'the client rejected the leaf');
  socket.destroy();
  const hint = await logLine(/does not trust the wiretrail CA/, mark, PROMPT);
  t.match(hint, /"code":"ECLIENTCLOSED"/, 'diagnosed from the silent close');
  const conn = await logLine(/client-distrusts-ca.*"msg":"connection"/, mark, PROMPT);
  t.notMatch(conn, /handshake-timeout/);
  const recs = (await allRecords(h)).filter((r) => r.kind === 'error' && /does not trust/.test(String(r.meta.reason)));
  t.ok(recs.length >= 1, 'recorded');
});

t.test('undici (Node fetch) through the proxy without the CA: hint logged promptly', async (t) => {
  const mark = h.logs.length;
  const agent = new ProxyAgent(h.proxyUrl);
  t.teardown(() => agent.close());
  await t.rejects(undiciFetch('https://api.openai.com/v1/models', { dispatcher: agent }));
  await logLine(/does not trust the wiretrail CA/, mark, PROMPT);
  const conn = await logLine(/client-distrusts-ca.*"msg":"connection"/, mark, PROMPT);
  t.ok(conn, 'the connection line carries the diagnosis');
});

t.test('a client that trusts the CA is not misdiagnosed', async (t) => {
  const mark = h.logs.length;
  const agent = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  const r = await undiciFetch('https://api.openai.com/v1/models', { dispatcher: agent });
  t.equal(r.status, 404);
  await r.arrayBuffer();
  await agent.close();
  await logLine(/"msg":"connection"/, mark, 5000);
  t.notOk(h.logs.slice(mark).some((l) => /does not trust/.test(l)));
});
