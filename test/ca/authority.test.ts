import t from 'tap';
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateCA, CA_KEY_FILE, CA_CERT_FILE } from '../../src/ca/index.js';
import { extensions, octets, serialBytes, tbsFieldDer } from './helpers.js';
import forge from 'node-forge';

const DAY = 86_400_000;
const OID = { basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', eku: '2.5.29.37', san: '2.5.29.17', ski: '2.5.29.14', aki: '2.5.29.35', nameConstraints: '2.5.29.30' };
type Asn1 = forge.asn1.Asn1;

t.test('first start creates the CA with safe permissions; the next start loads it', async (t) => {
  const dir = join(t.testdir(), 'certs');
  const ca = await loadOrCreateCA({ certsDir: dir });
  t.equal(ca.created, true);
  t.equal(ca.certPath, join(dir, CA_CERT_FILE));
  t.equal(statSync(dir).mode & 0o777, 0o700, 'certs dir 0700');
  t.equal(statSync(join(dir, CA_KEY_FILE)).mode & 0o777, 0o600, 'key 0600');
  t.equal(statSync(ca.certPath).mode & 0o777, 0o644, 'cert 0644');
  t.equal(readFileSync(ca.certPath, 'utf8'), ca.certPem);
  t.same(ca.warnings, []);

  const again = await loadOrCreateCA({ certsDir: dir });
  t.equal(again.created, false);
  t.equal(again.fingerprint256, ca.fingerprint256, 'same CA on restart');
});

t.test('the CA certificate: self-signed, 10 years, CA:true and keyCertSign critical, no name constraints', async (t) => {
  const now = new Date('2030-01-15T12:00:00.123Z');
  const ca = await loadOrCreateCA({ certsDir: t.testdir(), now: () => now });
  const x = new X509Certificate(ca.certPem);
  t.ok(x.ca);
  t.ok(x.verify(x.publicKey), 'self-signed');
  t.match(x.subject, /^CN=wiretrail CA .+/m);
  t.equal(x.subject, x.issuer);
  t.same(x.raw, ca.certDer);
  const days = (ca.notAfter.getTime() - now.getTime()) / DAY;
  t.ok(days > 3650 && days < 3653, `valid about 10 years (${days.toFixed(1)} days)`);
  t.ok(new Date(x.validFrom).getTime() <= now.getTime() - 3_000_000, 'backdated');

  const ext = extensions(ca.certDer);
  const bc = ext.get(OID.basicConstraints)!;
  t.equal(bc.critical, true, 'basicConstraints critical');
  t.equal(((bc.value.value as Asn1[])[0]!.value as string).charCodeAt(0), 0xff, 'cA TRUE');
  const ku = ext.get(OID.keyUsage)!;
  t.equal(ku.critical, true, 'keyUsage critical');
  const kuBits = (ku.value.value as string).charCodeAt(1);
  t.ok(kuBits & 0x04, 'keyCertSign');
  t.ok(kuBits & 0x02, 'cRLSign');
  t.notOk(ext.has(OID.nameConstraints), 'no nameConstraints');
  t.ok(ext.has(OID.ski), 'subject key identifier');
});

t.test('leaves validate against the CA, name the host and follow the profile', async (t) => {
  const now = new Date('2030-01-15T12:00:00.777Z');
  const ca = await loadOrCreateCA({ certsDir: t.testdir(), now: () => now });
  const caX = new X509Certificate(ca.certPem);
  const caSki = octets(extensions(ca.certDer).get(OID.ski)!.value);

  const leaf = ca.leafFor('api.openai.com');
  const x = new X509Certificate(leaf.certPem);
  t.ok(x.verify(caX.publicKey), 'signed by the CA');
  t.ok(x.checkIssued(caX), 'issued by the CA');
  t.equal(x.checkHost('api.openai.com'), 'api.openai.com');
  t.equal(x.checkHost('api.anthropic.com'), undefined, 'no other host');
  t.equal(x.subject, 'CN=api.openai.com');
  t.equal(x.subjectAltName, 'DNS:api.openai.com');
  t.notOk(x.ca);
  t.same(x.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'EKU serverAuth');
  t.equal(tbsFieldDer(x.raw, 3), tbsFieldDer(ca.certDer, 5), 'issuer Name is the CA subject byte for byte');

  t.equal(leaf.notBefore.getTime(), Date.parse('2030-01-15T11:00:00Z'), 'backdated 1 h, whole seconds');
  t.equal(leaf.notAfter.getTime(), Date.parse('2030-02-14T12:00:00Z'), '30 days, whole seconds');
  t.equal(new Date(x.validFrom).getTime(), leaf.notBefore.getTime());
  t.equal(new Date(x.validTo).getTime(), leaf.notAfter.getTime());

  const serial = serialBytes(x.raw);
  t.ok(serial.length >= 8, 'serial has at least 64 bits');
  t.equal(serial[0]! & 0x80, 0, 'serial positive');
  t.not(serial[0], 0, 'serial minimally encoded');
  t.equal(serial.toString('hex'), leaf.serialHex);

  const ext = extensions(x.raw);
  t.equal(ext.get(OID.keyUsage)!.critical, true);
  t.equal(ext.get(OID.san)!.critical, false);
  const aki = (ext.get(OID.aki)!.value.value as Asn1[])[0]!;
  t.same(octets(aki), caSki, 'authorityKeyIdentifier = CA subjectKeyIdentifier');
  t.ok(ext.has(OID.ski));

  const other = ca.leafFor('api.anthropic.com');
  t.not(other.serialHex, leaf.serialHex, 'fresh serial per leaf');
  t.equal(other.keyPem, leaf.keyPem, 'one shared leaf key');
  t.match(leaf.keyPem, /BEGIN PRIVATE KEY/);
});

t.test('IP literals get an iPAddress SAN', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const caX = new X509Certificate(ca.certPem);
  const cases = [
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[2001:DB8::5]', '2001:db8::5'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1::', '1::'],
  ] as const;
  for (const [host, ip] of cases) {
    const x = new X509Certificate(ca.leafFor(host).certPem);
    t.ok(x.verify(caX.publicKey));
    t.equal(x.checkIP(ip), ip, `${host} matches`);
    t.match(x.subjectAltName, /^IP Address:/);
    t.equal(x.checkHost(ip, { subject: 'never' }), undefined, 'no DNS SAN for an IP');
    t.equal(x.subject, `CN=${ip}`, 'canonical form in the CN');
  }
  t.equal(ca.leafFor('::ffff:7f00:1'), ca.leafFor('[::FFFF:127.0.0.1]'), 'one leaf per address, whatever its spelling');
  t.equal(new X509Certificate(ca.leafFor('64:ff9b::192.0.2.33').certPem).subjectAltName, 'IP Address:64:FF9B:0:0:0:0:C000:221');
});

t.test('over-long names go in a critical SAN with an empty subject', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
  const x = new X509Certificate(ca.leafFor(host).certPem);
  t.notOk(x.subject, 'empty subject');
  t.equal(x.checkHost(host), host);
  t.equal(extensions(x.raw).get(OID.san)!.critical, true);
});

t.test('host names are normalised and bad ones refused with a clear error', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const a = ca.leafFor('API.OpenAI.com.');
  t.equal(ca.leafFor('api.openai.com'), a, 'case and trailing dot do not make a new leaf');
  t.equal(ca.leafFor('xn--bcher-kva.example').certPem.length > 0, true, 'punycode names are fine');
  for (const bad of ['', 'bad host', 'a..b', '*.example.com', '-x.example', 'bücher.example', 'x'.repeat(64) + '.com', 'fe80::1%eth0']) {
    t.throws(() => ca.contextFor(bad), /certificate|host/, JSON.stringify(bad));
  }
  t.equal(ca.stats().issued, 2);
});

t.test('leaves are cached per host, LRU-bounded, and renewed shortly before expiry', async (t) => {
  let now = Date.parse('2031-06-01T00:00:00Z');
  const ca = await loadOrCreateCA({ certsDir: t.testdir(), now: () => new Date(now), cacheSize: 2, contextCacheSize: 1 });
  const ctx = ca.contextFor('a.example');
  t.equal(ca.contextFor('a.example'), ctx, 'same context object');
  t.same(ca.stats(), { issued: 1, hits: 1, cached: 1, contexts: 1 });
  ca.contextFor('b.example');
  ca.contextFor('a.example'); // a is now the most recent
  ca.contextFor('c.example'); // evicts b
  t.equal(ca.stats().cached, 2);
  const issued = ca.stats().issued;
  ca.contextFor('a.example');
  t.equal(ca.stats().issued, issued, 'a stayed cached');
  ca.contextFor('b.example');
  t.equal(ca.stats().issued, issued + 1, 'b was evicted and reissued');
  t.equal(ca.stats().contexts, 1, 'contexts have their own, smaller bound');
  const leafA = ca.leafFor('a.example');
  const ctxA = ca.contextFor('a.example');
  t.not(ctxA, ctx, 'an evicted context is rebuilt');
  t.equal(ca.leafFor('a.example'), leafA, 'from the cached leaf');
  t.equal(ca.contextFor('a.example'), ctxA);

  const first = ca.leafFor('a.example');
  now += 28 * DAY;
  t.equal(ca.leafFor('a.example'), first, 'still cached with 2 days left');
  now += 1.5 * DAY;
  const renewed = ca.leafFor('a.example');
  t.not(renewed.serialHex, first.serialHex, 'renewed within a day of expiry');
  t.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
});

t.test('leaf validity is configurable but never beyond the CA or Apple limits', async (t) => {
  await t.rejects(loadOrCreateCA({ certsDir: t.testdir(), leafValidityDays: 400 }), /leafValidityDays/);
  await t.rejects(loadOrCreateCA({ certsDir: t.testdir(), leafValidityDays: 0 }), /leafValidityDays/);
  const ca = await loadOrCreateCA({ certsDir: t.testdir(), leafValidityDays: 397 });
  const l = ca.leafFor('x.example');
  t.equal(Math.round((l.notAfter.getTime() - l.notBefore.getTime()) / DAY * 24), 397 * 24 + 1);
});

t.test('a CA close to expiry warns, clamps leaves, and an expired one is refused', async (t) => {
  const dir = t.testdir();
  const created = Date.parse('2030-01-01T00:00:00Z');
  const ca0 = await loadOrCreateCA({ certsDir: dir, now: () => new Date(created) });
  const end = ca0.notAfter.getTime();

  const warned: Array<{ obj: unknown; msg: string }> = [];
  const logger = { warn: (obj: unknown, msg: string) => warned.push({ obj, msg }), info() {} } as unknown as import('pino').Logger;
  const soon = end - 10 * DAY;
  const ca = await loadOrCreateCA({ certsDir: dir, logger, now: () => new Date(soon) });
  t.equal(ca.warnings.length, 1);
  t.match(ca.warnings[0], /expires on .* \(in 10 days\)/);
  t.equal(warned.length, 1, 'logged with logger.warn');
  t.equal(warned[0]!.msg, ca.warnings[0]);
  const leaf = ca.leafFor('late.example');
  t.equal(leaf.notAfter.getTime(), end, 'leaf ends with the CA');
  t.ok(new X509Certificate(leaf.certPem).verify(new X509Certificate(ca.certPem).publicKey));

  const fine = await loadOrCreateCA({ certsDir: dir, now: () => new Date(end - 91 * DAY) });
  t.same(fine.warnings, [], 'no warning 91 days before');

  await t.rejects(loadOrCreateCA({ certsDir: dir, now: () => new Date(end + 1000) }), /expired on/);
  let clock = end - 1000;
  const live = await loadOrCreateCA({ certsDir: dir, now: () => new Date(clock) });
  clock = end + 1;
  t.throws(() => live.contextFor('after.example'), /expired on/, 'no leaves once the CA has expired');
});

t.test('unsafe or inconsistent CA files are refused with a clear error', async (t) => {
  const root = t.testdir();
  const dir = join(root, 'a');
  const ca = await loadOrCreateCA({ certsDir: dir });
  const keyPath = join(dir, CA_KEY_FILE);

  chmodSync(keyPath, 0o644);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /readable by group or others \(mode 0644\).*chmod 600/);
  chmodSync(keyPath, 0o640);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /mode 0640/);
  chmodSync(keyPath, 0o600);

  const other = await loadOrCreateCA({ certsDir: join(root, 'b') });
  const otherKey = readFileSync(join(other.certPath, '..', CA_KEY_FILE));
  const goodKey = readFileSync(keyPath);
  writeFileSync(keyPath, otherKey);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /does not match/);
  writeFileSync(keyPath, 'not a key');
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /cannot read CA key/);
  writeFileSync(keyPath, goodKey);

  writeFileSync(ca.certPath, 'garbage');
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /cannot read CA certificate/);
  writeFileSync(ca.certPath, ca.certPem);
  t.equal((await loadOrCreateCA({ certsDir: dir })).fingerprint256, ca.fingerprint256, 'restored files load again');

  const leafAsCa = ca.leafFor('not-a-ca.example').certPem;
  writeFileSync(ca.certPath, leafAsCa);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /not a CA certificate/);
  writeFileSync(ca.certPath, ca.certPem);

  chmodSync(dir, 0o777);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /certs directory .* is writable by others \(mode 0777\); run "chmod 700/);
  chmodSync(dir, 0o700);

  unlinkSync(keyPath);
  await t.rejects(loadOrCreateCA({ certsDir: dir }), /no key/);
  t.ok(existsSync(ca.certPath), 'never replaces an existing certificate');
});

t.test('a certs path that cannot be a directory is a clear error', async (t) => {
  const file = join(t.testdir(), 'file');
  writeFileSync(file, 'x');
  await t.rejects(loadOrCreateCA({ certsDir: file }), /cannot create certs directory .*file: EEXIST|certs path .* is not a directory/);
  await t.rejects(loadOrCreateCA({ certsDir: join(file, 'sub') }), /cannot create certs directory .*: ENOTDIR/);
});

t.test('concurrent first starts agree on one CA', async (t) => {
  const dir = join(t.testdir(), 'fresh');
  const cas = await Promise.all([1, 2, 3].map(() => loadOrCreateCA({ certsDir: dir })));
  t.equal(new Set(cas.map((c) => c.fingerprint256)).size, 1);
  t.equal(cas.filter((c) => c.created).length, 1, 'exactly one created it');
});

t.test('serials are unique across many leaves', async (t) => {
  const ca = await loadOrCreateCA({ certsDir: t.testdir() });
  const serials = new Set<string>();
  for (let i = 0; i < 200; i++) serials.add(ca.leafFor(`h${i}-${randomBytes(2).toString('hex')}.example`).serialHex);
  t.equal(serials.size, 200);
});
