// Key helpers shared by the CA and leaf builders: signature algorithm per CA key type,
// SubjectPublicKeyInfo as a forge ASN.1 node, and RFC 5280 key identifiers.
import { createHash, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;

export interface Signer {
  /** AlgorithmIdentifier DER (goes in the TBS and after it). */
  readonly algDer: Buffer;
  readonly algAsn1: forge.asn1.Asn1;
  sign(data: Buffer): Buffer;
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
} as const;

function algorithmIdentifier(oid: string, nullParams: boolean): forge.asn1.Asn1 {
  const parts = [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes())];
  // RFC 5758: ECDSA parameters are absent; RFC 4055: RSA PKCS#1 v1.5 parameters are NULL.
  if (nullParams) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts);
}

/** A native signer for the CA private key: ECDSA P-256/P-384/P-521 or RSA (>= 2048 bits) with SHA-2. */
export function signerFor(key: KeyObject): Signer {
  let oid: string;
  let hash: string;
  let nullParams = false;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') [oid, hash] = [OID.ecdsaSha256, 'sha256'];
    else if (curve === 'secp384r1') [oid, hash] = [OID.ecdsaSha384, 'sha384'];
    else if (curve === 'secp521r1') [oid, hash] = [OID.ecdsaSha512, 'sha512'];
    else throw new Error(`unsupported CA key curve: ${curve ?? 'unknown'}`);
  } else if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('CA RSA key must be at least 2048 bits');
    [oid, hash, nullParams] = [OID.rsaSha256, 'sha256', true];
  } else {
    throw new Error(`unsupported CA key type: ${key.asymmetricKeyType ?? 'unknown'} (use EC P-256/P-384 or RSA)`);
  }
  const algAsn1 = algorithmIdentifier(oid, nullParams);
  const algDer = Buffer.from(asn1.toDer(algAsn1).getBytes(), 'binary');
  return { algAsn1, algDer, sign: (data) => sign(hash, data, { key, dsaEncoding: 'der' }) };
}

export interface PublicKeyInfo {
  /** SubjectPublicKeyInfo as a forge node, spliced into TBS certificates. */
  readonly spkiAsn1: forge.asn1.Asn1;
  /** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
  readonly keyId: Buffer;
}

export function publicKeyInfo(pub: KeyObject): PublicKeyInfo {
  const der = pub.export({ type: 'spki', format: 'der' });
  // decodeBitStrings:false keeps the key bits opaque so they re-encode byte for byte.
  const spkiAsn1 = asn1.fromDer(der.toString('binary'), { decodeBitStrings: false } as unknown as boolean);
  const bits = (spkiAsn1.value as forge.asn1.Asn1[])[1];
  if (!bits || typeof bits.value !== 'string') throw new Error('malformed SubjectPublicKeyInfo');
  const keyId = createHash('sha1').update(Buffer.from(bits.value.slice(1), 'binary')).digest();
  return { spkiAsn1, keyId };
}
