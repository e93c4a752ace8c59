// Certificates are described with node-forge (fields, names, extensions → TBSCertificate) and signed
// natively with node:crypto: forge's JavaScript RSA/ECDSA signing would block the event loop for tens of ms.
import forge from 'node-forge';
import { assembleCertificate } from './der.js';
import type { Signer } from './keys.js';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): Asn1 }).getTBSCertificate;

// forge can only encode RSA keys; it gets a dummy one and the real SubjectPublicKeyInfo is spliced in after.
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('1'), new forge.jsbn.BigInteger('3'));

// TBSCertificate children (v3): version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions
const TBS_SIGNATURE = 2;
const TBS_ISSUER = 3;
const TBS_SUBJECT = 5;
const TBS_SPKI = 6;

export interface CertSpec {
  serialHex: string;
  subject: forge.pki.CertificateField[];
  /** Issuer Name exactly as encoded in the issuing CA's certificate; omitted for a self-signed certificate. */
  issuer?: Asn1;
  notBefore: Date;
  notAfter: Date;
  spki: Asn1;
  extensions: object[];
}

export function buildCertificate(spec: CertSpec, signer: Signer): Buffer {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = spec.serialHex;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(spec.subject);
  cert.publicKey = PLACEHOLDER_KEY;
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.setExtensions(spec.extensions);
  const tbs = getTBSCertificate(cert);
  const fields = tbs.value as Asn1[];
  fields[TBS_SIGNATURE] = signer.algAsn1;
  fields[TBS_ISSUER] = spec.issuer ?? fields[TBS_SUBJECT]!;
  fields[TBS_SPKI] = spec.spki;
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  return assembleCertificate(tbsDer, signer.algDer, signer.sign(tbsDer));
}

/** The subject Name of a DER certificate as a forge node, to use verbatim as the issuer of the certificates it signs. */
export function subjectNameOf(certDer: Buffer): Asn1 {
  const tbs = tbsOf(certDer);
  const subject = (tbs.value as Asn1[])[TBS_SUBJECT];
  if (!subject) throw new Error('malformed CA certificate: no subject');
  return subject;
}

/** The subjectKeyIdentifier extension value of a DER certificate, if it has one. */
export function subjectKeyIdOf(certDer: Buffer): Buffer | undefined {
  const tbs = tbsOf(certDer);
  const explicitExts = (tbs.value as Asn1[]).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const exts = (explicitExts?.value as Asn1[] | undefined)?.[0]?.value as Asn1[] | undefined;
  for (const ext of exts ?? []) {
    const [oid, ...rest] = ext.value as Asn1[];
    if (!oid || asn1.derToOid(oid.value as string) !== '2.5.29.14') continue;
    const octets = rest[rest.length - 1];
    if (!octets || typeof octets.value !== 'string') return undefined;
    const inner = asn1.fromDer(octets.value);
    return typeof inner.value === 'string' ? Buffer.from(inner.value, 'binary') : undefined;
  }
  return undefined;
}

function tbsOf(certDer: Buffer): Asn1 {
  const cert = asn1.fromDer(certDer.toString('binary'), { decodeBitStrings: false } as unknown as boolean);
  const tbs = (cert.value as Asn1[])[0];
  if (!tbs || !Array.isArray(tbs.value)) throw new Error('malformed certificate');
  return tbs;
}
