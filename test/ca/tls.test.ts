// Real TLS handshakes on loopback: a client trusting only our CA accepts the leaves, others refuse them.
import t from 'tap';
import { loadOrCreateCA } from '../../src/ca/index.js';
import { handshake, tlsServer } from './helpers.js';

t.test('a verifying TLS client accepts leaves for DNS names and IP literals', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const srv = await tlsServer((h) => ca.contextFor(h), 'api.openai.com');
  t.teardown(srv.close);
  const ipSrv = await tlsServer((h) => ca.contextFor(h), '127.0.0.1');
  t.teardown(ipSrv.close);

  const dns = await handshake(srv.port, { ca: ca.certPem, servername: 'api.openai.com' });
  t.equal(dns.error, undefined);
  t.equal(dns.authorized, true, 'chain and name verified');
  t.equal(dns.peer?.subject.CN, 'api.openai.com');
  t.equal(dns.data, 'hello');

  // A client connecting to an IP literal sends no SNI and checks the IP SAN.
  const ip = await handshake(ipSrv.port, { ca: ca.certPem });
  t.equal(ip.error, undefined);
  t.equal(ip.authorized, true);
  t.equal(ip.peer?.subjectaltname, 'IP Address:127.0.0.1');
});

t.test('verification still fails closed', async (t) => {
  const root = t.testdir();
  const ca = await loadOrCreateCA({ certsDir: `${root}/ours` });
  const stranger = await loadOrCreateCA({ certsDir: `${root}/theirs` });
  const srv = await tlsServer((h) => ca.contextFor(h), 'api.openai.com');
  t.teardown(srv.close);

  const noCa = await handshake(srv.port, { servername: 'api.openai.com' });
  t.equal(noCa.authorized, false);
  t.match(noCa.error, /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/, 'system roots do not know our CA');

  const wrongCa = await handshake(srv.port, { ca: stranger.certPem, servername: 'api.openai.com' });
  t.equal(wrongCa.authorized, false);
  t.ok(wrongCa.error, `another CA is refused (${wrongCa.error})`);

  const mismatch = await handshake(srv.port, { ca: ca.certPem, servername: 'api.anthropic.com' });
  t.equal(mismatch.authorized, false);
  t.equal(mismatch.error, 'ERR_TLS_CERT_ALTNAME_INVALID', 'a leaf for one host is no good for another');
});

t.test('concurrent handshakes for one new host share a single issuance', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const srv = await tlsServer((h) => ca.contextFor(h), 'burst.example');
  t.teardown(srv.close);
  const before = ca.stats().issued;
  const results = await Promise.all(Array.from({ length: 12 }, () => handshake(srv.port, { ca: ca.certPem, servername: 'burst.example' })));
  t.ok(results.every((r) => r.authorized), 'all verified');
  t.equal(new Set(results.map((r) => r.peer?.serialNumber)).size, 1, 'one certificate served');
  t.equal(ca.stats().issued - before, 1, 'issued once');
});
