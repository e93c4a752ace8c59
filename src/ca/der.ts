// Minimal DER framing for the outer Certificate SEQUENCE. The TBSCertificate itself is built by node-forge;
// we only wrap bytes that are already DER, which forge's ASN.1 objects cannot embed without a re-parse.
function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTLV(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } */
export function assembleCertificate(tbsDer: Buffer, sigAlgDer: Buffer, signature: Buffer): Buffer {
  const bitString = derTLV(0x03, Buffer.concat([Buffer.from([0x00]), signature]));
  return derTLV(0x30, Buffer.concat([tbsDer, sigAlgDer, bitString]));
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
