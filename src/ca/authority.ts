// The proxy's certificate authority: loads or creates the CA, mints per-host leaves on demand
// (one shared in-memory leaf key) and caches their TLS contexts.
import { generateKeyPair as generateKeyPairCb, type KeyObject, type X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { Logger } from 'pino';
import { buildCertificate, subjectKeyIdOf, subjectNameOf } from './build.js';
import { toPem } from './der.js';
import { leafName, type LeafName } from './host.js';
import { publicKeyInfo, signerFor, type PublicKeyInfo, type Signer } from './keys.js';
import { Lru } from './lru.js';
import { randomSerialHex } from './serial.js';
import { caPaths, loadOrCreateFiles } from './store.js';

const generateKeyPair = promisify(generateKeyPairCb);
const { asn1 } = forge;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const CA_VALIDITY_MS = 3652 * DAY; // 10 years
export const CA_EXPIRY_WARNING_MS = 90 * DAY;
/** Leaves are backdated to tolerate client clock skew. */
export const LEAF_BACKDATE_MS = HOUR;
export const DEFAULT_LEAF_VALIDITY_DAYS = 30;
/** Apple's limit for TLS server certificates from user-trusted roots is 825 days; stay below the public 398 too. */
export const MAX_LEAF_VALIDITY_DAYS = 397;
export const DEFAULT_LEAF_CACHE_SIZE = 4096;
/** A SecureContext costs ~33 KB of OpenSSL memory against ~1 KB for a leaf, so fewer are kept. */
export const DEFAULT_CONTEXT_CACHE_SIZE = 256;

export interface LeafCertificate {
  /** The leaf certificate (PEM). The CA is not appended: clients hold it as their trust anchor. */
  readonly certPem: string;
  /** The shared leaf key (PKCS#8 PEM, EC P-256), generated once per CA instance and never written to disk. */
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialHex: string;
}

export interface CertificateAuthority {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly notAfter: Date;
  readonly certPath: string;
  /** TLS context for a leaf of `host` (DNS name or IP literal → IP SAN), cached until shortly before expiry. ALPN is set by the caller. */
  contextFor(host: string): SecureContext;
  /** The leaf itself (for tests/bench): PEM cert chain and the shared leaf key. */
  leafFor(host: string): LeafCertificate;
}

export interface CaStats {
  /** Leaves issued so far. */
  issued: number;
  /** Requests answered from the leaf cache. */
  hits: number;
  /** Leaves and TLS contexts currently cached. */
  cached: number;
  contexts: number;
}

/** What loadOrCreateCA returns: the interface plus facts for start-up messages and tests. */
export interface LoadedCertificateAuthority extends CertificateAuthority {
  readonly keyPath: string;
  readonly created: boolean;
  /** Start-up warnings (e.g. the CA expires within 90 days); each was also logged with logger.warn. */
  readonly warnings: readonly string[];
  readonly subject: string;
  readonly fingerprint256: string;
  stats(): CaStats;
}

export interface CaOptions {
  certsDir: string;
  logger?: Logger;
  now?: () => Date;
  /** Leaf lifetime in days (default 30, at most 397); always clamped to the CA's notAfter. */
  leafValidityDays?: number;
  /** Most leaves kept in memory (LRU, default 4096). */
  cacheSize?: number;
  /** Most TLS contexts kept in memory (LRU, default 256); an evicted one is rebuilt from its cached leaf. */
  contextCacheSize?: number;
}

const floorToSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
const utf8 = (value: string) => ({ value, valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class });

/** RFC 5280 caps commonName at 64 characters. */
const MAX_CN = 64;

async function generateCa(now: Date): Promise<{ certPem: string; keyPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ec', { namedCurve: 'P-256' });
  const info = publicKeyInfo(publicKey);
  const host = hostname().slice(0, MAX_CN - 'wiretrail CA '.length) || 'localhost';
  const t = now.getTime();
  const der = buildCertificate(
    {
      serialHex: randomSerialHex(),
      subject: [
        { name: 'commonName', ...utf8(`wiretrail CA ${host}`) },
        { name: 'organizationName', ...utf8('wiretrail') },
        // Distinguishes CAs of several installs on one machine in trust-store listings.
        { name: 'organizationalUnitName', ...utf8(`created ${now.toISOString().slice(0, 10)} ${info.keyId.toString('hex').slice(0, 8)}`) },
      ],
      notBefore: new Date(floorToSecond(t - LEAF_BACKDATE_MS)),
      notAfter: new Date(floorToSecond(t + CA_VALIDITY_MS)),
      spki: info.spkiAsn1,
      // No nameConstraints: the CA mints for whatever host the policy intercepts.
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        { name: 'subjectKeyIdentifier', value: octetString(info.keyId) },
        { name: 'authorityKeyIdentifier', keyIdentifier: info.keyId.toString('binary') },
      ],
    },
    signerFor(privateKey),
  );
  return { certPem: toPem(der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function octetString(bytes: Buffer): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

interface CacheEntry {
  leaf: LeafCertificate;
  refreshAt: number;
}

class Authority implements LoadedCertificateAuthority {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly notAfter: Date;
  readonly certPath: string;
  readonly keyPath: string;
  readonly created: boolean;
  readonly warnings: readonly string[];
  readonly subject: string;
  readonly fingerprint256: string;

  readonly #signer: Signer;
  readonly #issuerName: forge.asn1.Asn1;
  readonly #authorityKeyId: Buffer;
  readonly #leafKey: PublicKeyInfo & { pem: string };
  readonly #leafKeyExtension: forge.asn1.Asn1;
  readonly #now: () => Date;
  readonly #validityMs: number;
  readonly #cache: Lru<string, CacheEntry>;
  readonly #contexts: Lru<string, { leaf: LeafCertificate; context: SecureContext }>;
  #issued = 0;
  #hits = 0;

  constructor(init: {
    cert: X509Certificate;
    certPem: string;
    key: KeyObject;
    leafPrivate: KeyObject;
    leafPublic: KeyObject;
    paths: { certPath: string; keyPath: string };
    created: boolean;
    warnings: string[];
    now: () => Date;
    validityDays: number;
    cacheSize: number;
    contextCacheSize: number;
  }) {
    this.certPem = init.certPem;
    this.certDer = init.cert.raw;
    this.notAfter = new Date(init.cert.validTo);
    this.certPath = init.paths.certPath;
    this.keyPath = init.paths.keyPath;
    this.created = init.created;
    this.warnings = Object.freeze([...init.warnings]);
    this.subject = init.cert.subject;
    this.fingerprint256 = init.cert.fingerprint256;
    this.#signer = signerFor(init.key);
    this.#issuerName = subjectNameOf(this.certDer);
    this.#authorityKeyId = subjectKeyIdOf(this.certDer) ?? publicKeyInfo(init.cert.publicKey).keyId;
    const leafInfo = publicKeyInfo(init.leafPublic);
    this.#leafKey = { ...leafInfo, pem: init.leafPrivate.export({ type: 'pkcs8', format: 'pem' }) as string };
    this.#leafKeyExtension = octetString(leafInfo.keyId);
    this.#now = init.now;
    this.#validityMs = init.validityDays * DAY;
    this.#cache = new Lru(init.cacheSize);
    this.#contexts = new Lru(init.contextCacheSize);
  }

  contextFor(host: string): SecureContext {
    const { key, entry } = this.#entry(host);
    const cached = this.#contexts.get(key);
    if (cached && cached.leaf === entry.leaf) return cached.context;
    const context = createSecureContext({ key: entry.leaf.keyPem, cert: entry.leaf.certPem });
    this.#contexts.set(key, { leaf: entry.leaf, context });
    return context;
  }

  leafFor(host: string): LeafCertificate {
    return this.#entry(host).entry.leaf;
  }

  stats(): CaStats {
    return { issued: this.#issued, hits: this.#hits, cached: this.#cache.size, contexts: this.#contexts.size };
  }

  // Synchronous on purpose: issuance takes well under a millisecond of CPU, and being synchronous
  // means concurrent requests for one new host can only ever produce a single issuance.
  #entry(host: string): { key: string; entry: CacheEntry } {
    const name = leafName(host);
    const key = `${name.kind}:${name.name}`;
    const now = this.#now().getTime();
    const cached = this.#cache.get(key);
    if (cached && now < cached.refreshAt) {
      this.#hits++;
      return { key, entry: cached };
    }
    const entry = this.#issue(name, now);
    this.#cache.set(key, entry);
    return { key, entry };
  }

  #issue(name: LeafName, now: number): CacheEntry {
    const caEnd = this.notAfter.getTime();
    if (now >= caEnd) throw new Error(`CA certificate ${this.certPath} expired on ${this.notAfter.toISOString()}; create and trust a new CA`);
    const notBefore = floorToSecond(now - LEAF_BACKDATE_MS);
    const notAfter = Math.min(floorToSecond(now + this.#validityMs), caEnd);
    const serialHex = randomSerialHex();
    const longName = name.name.length > MAX_CN;
    const der = buildCertificate(
      {
        serialHex,
        // An over-long DNS name goes in the SAN only; the SAN is then critical (RFC 5280 4.2.1.6).
        subject: longName ? [] : [{ name: 'commonName', ...utf8(name.name) }],
        issuer: this.#issuerName,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        spki: this.#leafKey.spkiAsn1,
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            critical: longName,
            altNames: [name.kind === 'ip' ? { type: 7, value: name.bytes.toString('binary') } : { type: 2, value: name.name }],
          },
          { name: 'subjectKeyIdentifier', value: this.#leafKeyExtension },
          { name: 'authorityKeyIdentifier', keyIdentifier: this.#authorityKeyId.toString('binary') },
        ],
      },
      this.#signer,
    );
    this.#issued++;
    const leaf: LeafCertificate = Object.freeze({
      certPem: toPem(der),
      keyPem: this.#leafKey.pem,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      serialHex,
    });
    return { leaf, refreshAt: notAfter - Math.min(DAY, (notAfter - now) / 2) };
  }
}

/** Loads the CA from `certsDir`, creating it on first use; throws a one-line error when it cannot be used. */
export async function loadOrCreateCA(opts: CaOptions): Promise<LoadedCertificateAuthority> {
  const now = opts.now ?? (() => new Date());
  const validityDays = opts.leafValidityDays ?? DEFAULT_LEAF_VALIDITY_DAYS;
  if (!(validityDays > 0 && validityDays <= MAX_LEAF_VALIDITY_DAYS)) {
    throw new RangeError(`leafValidityDays must be in (0, ${MAX_LEAF_VALIDITY_DAYS}]`);
  }
  const paths = caPaths(opts.certsDir);
  const [files, leafPair] = await Promise.all([
    loadOrCreateFiles(paths, () => generateCa(now())),
    generateKeyPair('ec', { namedCurve: 'P-256' }),
  ]);
  const notAfter = new Date(files.cert.validTo);
  const t = now().getTime();
  if (!(notAfter.getTime() > t)) {
    throw new Error(`CA certificate ${paths.certPath} expired on ${notAfter.toISOString()}; move ${paths.dir} aside to create a new CA, then trust the new one`);
  }
  const warnings: string[] = [];
  if (notAfter.getTime() - t < CA_EXPIRY_WARNING_MS) {
    const days = Math.floor((notAfter.getTime() - t) / DAY);
    const msg = `CA certificate ${paths.certPath} expires on ${notAfter.toISOString()} (in ${days} days); create a new CA and re-trust it before then`;
    warnings.push(msg);
    opts.logger?.warn({ certPath: paths.certPath, notAfter: notAfter.toISOString(), days }, msg);
  }
  if (files.created) opts.logger?.info({ certPath: paths.certPath, notAfter: notAfter.toISOString() }, 'created a new CA');
  return new Authority({
    ...files,
    leafPrivate: leafPair.privateKey,
    leafPublic: leafPair.publicKey,
    paths,
    warnings,
    now,
    validityDays,
    cacheSize: opts.cacheSize ?? DEFAULT_LEAF_CACHE_SIZE,
    contextCacheSize: opts.contextCacheSize ?? DEFAULT_CONTEXT_CACHE_SIZE,
  });
}
