// A throwaway test CA built with node-forge (independent of the code under test in src/ca) and leaves
// for DNS names or IP literals, so mock servers serve real HTTPS that is verified, never unverified.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface Leaf {
  certPem: string;
  keyPem: string;
}

function rsa(): { key: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { key, pub: forge.pki.setRsaPublicKey(key.n, key.e), pem };
}

function certificate(cn: string, pub: forge.pki.PublicKey, issuer: forge.pki.CertificateField[] | null, signKey: forge.pki.rsa.PrivateKey, sans: string[] | null): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = pub;
  c.serialNumber = '01' + randomBytes(8).toString('hex');
  c.validity.notBefore = new Date(Date.now() - 3600_000);
  c.validity.notAfter = new Date(Date.now() + 86400_000);
  const subject = [{ name: 'commonName', value: cn }];
  c.setSubject(subject);
  c.setIssuer(issuer ?? subject);
  c.setExtensions(
    sans === null
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: sans.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
        ],
  );
  c.sign(signKey, forge.md.sha256.create());
  return c;
}

/** A CA named `name` and one leaf per entry of `leaves` (each entry: the names of that leaf; the first is its CN). */
export function makeTestPki(name: string, leaves: string[][]): { caPem: string; leaves: Leaf[] } {
  const ca = rsa();
  const caCert = certificate(name, ca.pub, null, ca.key, null);
  const issuer = caCert.subject.attributes as forge.pki.CertificateField[];
  return {
    caPem: forge.pki.certificateToPem(caCert),
    leaves: leaves.map((names) => {
      const k = rsa();
      return { certPem: forge.pki.certificateToPem(certificate(names[0]!, k.pub, issuer, ca.key, names)), keyPem: k.pem };
    }),
  };
}
