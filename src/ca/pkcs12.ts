// A certificate-only PKCS#12 (PFX) file: one CertBag, not encrypted (a CA certificate is public),
// integrity MAC HMAC-SHA1 under the empty password "" — the form keychains, Windows and Java import.
// forge's own p12 writer cannot be used: it re-encodes certificates through its RSA-only model.
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const seq = (...v: Asn1[]) => asn1.create(U, T.SEQUENCE, true, v);
const set = (...v: Asn1[]) => asn1.create(U, T.SET, true, v);
const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);
const int = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
const explicit0 = (v: Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [v]);
const der = (v: Asn1) => asn1.toDer(v).getBytes();

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  // Java's keytool only lists a PKCS#12 certificate as a trusted entry when it carries this attribute.
  oracleTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  sha1: '1.3.14.3.2.26',
};

export const P12_MAC_ITERATIONS = 2048;

// forge writes a BMPSTRING's JS string as UTF-16 code units itself.
const bmpString = (s: string) => asn1.create(U, T.BMPSTRING, false, s);

const generateKey = (forge.pkcs12 as unknown as {
  generateKey(password: string, salt: forge.util.ByteBuffer, id: number, iter: number, n: number, md?: unknown): forge.util.ByteBuffer;
}).generateKey;

export function certificateOnlyP12(certDer: Buffer, friendlyName: string): Buffer {
  const certBag = seq(
    oid(OIDS.certBag),
    explicit0(seq(oid(OIDS.x509Certificate), explicit0(octets(certDer.toString('binary'))))),
    set(
      seq(oid(OIDS.friendlyName), set(bmpString(friendlyName))),
      seq(oid(OIDS.oracleTrustedKeyUsage), set(oid(OIDS.anyExtendedKeyUsage))),
    ),
  );
  const safeContents = seq(certBag);
  const authenticatedSafe = seq(seq(oid(OIDS.data), explicit0(octets(der(safeContents)))));
  const authSafeBytes = der(authenticatedSafe);

  const salt = randomBytes(8).toString('binary');
  const macKey = generateKey('', forge.util.createBuffer(salt), 3, P12_MAC_ITERATIONS, 20, forge.md.sha1.create());
  const hmac = forge.hmac.create();
  hmac.start('sha1', macKey.getBytes());
  hmac.update(authSafeBytes);
  const mac = hmac.digest().getBytes();

  const pfx = seq(
    int(3),
    seq(oid(OIDS.data), explicit0(octets(authSafeBytes))),
    seq(seq(seq(oid(OIDS.sha1), asn1.create(U, T.NULL, false, '')), octets(mac)), octets(salt), int(P12_MAC_ITERATIONS)),
  );
  return Buffer.from(der(pfx), 'binary');
}
