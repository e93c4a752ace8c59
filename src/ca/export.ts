// `wiretrail ca export`: the CA certificate only (never the key) as PEM, DER or a certificate-only PKCS#12.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { toPem } from './der.js';
import { certificateOnlyP12 } from './pkcs12.js';
import { caPaths } from './store.js';

export type ExportFormat = 'pem' | 'der' | 'p12';

export function exportCA(certsDir: string, format: ExportFormat): Buffer {
  const { certPath } = caPaths(certsDir);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certPath));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`no CA certificate at ${certPath}; "wiretrail start" or "wiretrail env" creates it`);
    throw new Error(`cannot read CA certificate ${certPath}: ${(err as Error).message}`);
  }
  switch (format) {
    case 'pem':
      return Buffer.from(toPem(cert.raw));
    case 'der':
      return Buffer.from(cert.raw);
    case 'p12':
      return certificateOnlyP12(cert.raw, commonName(cert.subject) ?? 'wiretrail CA');
    default:
      throw new Error(`unknown export format "${String(format)}" (pem, der or p12)`);
  }
}

function commonName(subject: string): string | undefined {
  return /^CN=(.*)$/m.exec(subject)?.[1];
}
