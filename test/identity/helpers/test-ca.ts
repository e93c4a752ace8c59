// A throwaway CA and a leaf for 127.0.0.1 / localhost, so the test issuer serves real HTTPS that
// the code under test verifies against `ca_file` (verification is never turned off).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function rsa(): { forgeKey: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { forgeKey, pub: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function cert(subjectCn: string, pub: forge.pki.PublicKey, issuer: forge.pki.CertificateField[] | null, signKey: forge.pki.rsa.PrivateKey, ca: boolean): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = pub;
  c.serialNumber = '01' + randomBytes(8).toString('hex');
  c.validity.notBefore = new Date(Date.now() - 3600_000);
  c.validity.notAfter = new Date(Date.now() + 86400_000);
  const subject = [{ name: 'commonName', value: subjectCn }];
  c.setSubject(subject);
  c.setIssuer(issuer ?? subject);
  c.setExtensions(
    ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
        ],
  );
  c.sign(signKey, forge.md.sha256.create());
  return c;
}

export function makeTestPki(): TestPki {
  const caKey = rsa();
  const caCert = cert('wiretrail identity test CA', caKey.pub, null, caKey.forgeKey, true);
  const leafKey = rsa();
  const leaf = cert('127.0.0.1', leafKey.pub, caCert.subject.attributes as forge.pki.CertificateField[], caKey.forgeKey, false);
  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(leaf), keyPem: leafKey.pem };
}
