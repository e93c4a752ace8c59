// Revoking or expiring a wiretrail credential closes the caller's open connections: a blind tunnel (which
// never asks again) and an idle intercepted keep-alive connection. Revocation is done the hard way, by
// another TokenStore writing the token file (as `wiretrail tokens revoke --data DIR` does from another process).
import t from 'tap';
import net from 'node:net';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel, tlsOver } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { TokenStore } from '../../src/identity/token-store.js';
import { createStaticToken } from '../../src/identity/authenticator.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const upstream = await startMockUpstream();
const echo = net.createServer((s) => s.on('data', (d) => s.write(d)));
await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
const echoPort = (echo.address() as net.AddressInfo).port;

const RECHECK_MS = 200;
const h = await startHarness({
  policy: 'egress: audit\nauth: required\nintercept: [api.openai.com]\ntunnel: [echo.test]\n',
  upstreamCa: [upstream.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`, `echo.test:7000:127.0.0.1:${echoPort}`],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: 1 << 20, handshakeTimeoutMs: 5000, headersTimeoutMs: 5000, tunnelIdleTimeoutMs: 15 * 60_000, upstreamIdleTimeoutMs: 60_000, credentialRecheckMs: RECHECK_MS } },
});
const store = await TokenStore.open(h.dataDir);
t.teardown(async () => {
  await h.stop();
  await upstream.close();
  echo.close();
});

const basic = (token: string) => 'Basic ' + Buffer.from(`wt:${token}`).toString('base64');

function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function openTunnel(token: string): Promise<net.Socket> {
  const { socket, status } = await connectTunnel(h.proxy.port, 'echo.test:7000', { 'Proxy-Authorization': basic(token) });
  if (status !== 200) throw new Error(`tunnel refused: ${status}`);
  socket.resume();
  const echoed = new Promise<string>((r) => socket.once('data', (d: Buffer) => r(d.toString())));
  socket.write('ping');
  if ((await echoed) !== 'ping') throw new Error('no echo');
  return socket;
}

t.test('revoking a credential closes its open blind tunnel (which would otherwise forward for 15 min)', async (t) => {
  const { token, info } = await createStaticToken(store, { name: 'tunnel-user' });
  const other = await createStaticToken(store, { name: 'bystander' });
  const tunnel = await openTunnel(token);
  const bystander = await openTunnel(other.token);
  await store.revoke(info.id);
  t.ok(await closedWithin(tunnel, 10 * RECHECK_MS + 2000), 'the tunnel was closed');
  t.notOk(bystander.destroyed, "another credential's tunnel stays open");
  bystander.destroy();
  const ended = (await allRecords(h)).filter((r) => r.kind === 'deny' && r.meta.code === 'WT_ERR_CREDENTIAL_ENDED');
  t.ok(ended.some((r) => /revoked/.test(String(r.meta.reason))), 'recorded with the reason');
  await t.rejects(openTunnel(token), /407/, 'a new tunnel is refused too');
});

t.test('revoking a credential closes its idle intercepted keep-alive connection', async (t) => {
  const { token, info } = await createStaticToken(store, { name: 'intercept-user' });
  const { socket, status } = await connectTunnel(h.proxy.port, 'api.openai.com:443', { 'Proxy-Authorization': basic(token) });
  t.equal(status, 200);
  const tlsSock = await tlsOver(socket, 'api.openai.com', h.caPem);
  const answered = new Promise<string>((r) => tlsSock.once('data', (d: Buffer) => r(d.toString())));
  tlsSock.write('GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
  t.match(await answered, /^HTTP\/1\.1 404/, 'served while valid (keep-alive stays open)');
  await store.revoke(info.id);
  t.ok(await closedWithin(socket, 10 * RECHECK_MS + 2000), 'the intercepted connection was closed');
});

t.test('an expiring credential closes its tunnel at expiry', async (t) => {
  const { token } = await createStaticToken(store, { name: 'short-lived', ttlSeconds: 1 });
  const tunnel = await openTunnel(token);
  const opened = Date.now();
  t.ok(await closedWithin(tunnel, 1000 + 10 * RECHECK_MS + 2000), 'closed after expiry');
  t.ok(Date.now() - opened >= 500, 'not before it expired');
  const ended = (await allRecords(h)).filter((r) => r.kind === 'deny' && r.meta.code === 'WT_ERR_CREDENTIAL_ENDED' && /expired/.test(String(r.meta.reason)));
  t.ok(ended.length >= 1);
});
