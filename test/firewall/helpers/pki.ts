// A throwaway test CA and one leaf per host name, so the mock upstreams serve real, verifiable HTTPS.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
          { name: 'subjectAltName', altNames: sans.map((value) => ({ type: 2, value })) },
        ],
  );
  c.sign(signKey, forge.md.sha256.create());
  return c;
}

export function makePki(hosts: string[]): { caPem: string; leaves: Record<string, Leaf> } {
  const ca = rsa();
  const caCert = certificate('wiretrail firewall test CA', ca.pub, null, ca.key, null);
  const leaves: Record<string, Leaf> = {};
  for (const host of hosts) {
    const k = rsa();
    leaves[host] = { certPem: forge.pki.certificateToPem(certificate(host, k.pub, caCert.subject.attributes as forge.pki.CertificateField[], ca.key, [host])), keyPem: k.pem };
  }
  return { caPem: forge.pki.certificateToPem(caCert), leaves };
}
