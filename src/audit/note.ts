// C2SP signed-note and tlog-checkpoint formats with Ed25519 (node:crypto).
//   checkpoint body: "<origin>\n<tree size>\n<base64 root>\n"
//   note:            body + "\n" + one "— <key name> <base64(4-byte key hash ‖ 64-byte signature)>\n" per signer
//   verifier key:    "<name>+<hex key hash>+<base64(0x01 ‖ 32-byte public key)>"
//   signer key:      "PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ 32-byte seed)>"
// key hash = first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';

export interface Verifier {
  name: string;
  keyHash: Buffer;
  publicKey: KeyObject;
  /** The verifier key string (shareable). */
  text: string;
}

export interface Signer extends Verifier {
  privateKey: KeyObject;
  /** The signer key string (secret). */
  secretText: string;
}

export class NoteError extends Error {
  override readonly name = 'NoteError';
}

export function validKeyName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name) && !/[\u0000-\u001f\u007f]/.test(name);
}

function keyHashOf(name: string, pub: Buffer): Buffer {
  return createHash('sha256').update(name + '\n').update(Buffer.from([ALG_ED25519])).update(pub).digest().subarray(0, 4);
}

const b64u = (b: Buffer) => b.toString('base64url');

function rawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new NoteError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

function publicFromRaw(pub: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(pub) }, format: 'jwk' });
}

export function generateSigner(name: string): Signer {
  if (!validKeyName(name)) throw new NoteError(`invalid key name "${name}" (no spaces or '+')`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return signerFromSeed(name, Buffer.from(jwk.d!, 'base64url'));
}

function signerFromSeed(name: string, seed: Buffer): Signer {
  if (seed.length !== 32) throw new NoteError('Ed25519 seed must be 32 bytes');
  // node has no raw-seed import for Ed25519: wrap the seed in its fixed PKCS#8 prefix.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const v = verifierFromParts(name, rawPublic(createPublicKey(privateKey)));
  return {
    ...v,
    privateKey,
    secretText: `PRIVATE+KEY+${name}+${v.keyHash.toString('hex')}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`,
  };
}

function verifierFromParts(name: string, pub: Buffer): Verifier {
  const keyHash = keyHashOf(name, pub);
  return {
    name,
    keyHash,
    publicKey: publicFromRaw(pub),
    text: `${name}+${keyHash.toString('hex')}+${Buffer.concat([Buffer.from([ALG_ED25519]), pub]).toString('base64')}`,
  };
}

/** Splits at the first `n - 1` '+' signs (base64 may itself contain '+'). */
function splitPlus(text: string, n: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (out.length < n - 1) {
    const i = rest.indexOf('+');
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  out.push(rest);
  return out;
}

export function parseSigner(text: string): Signer {
  const parts = splitPlus(text.trim(), 5);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new NoteError('malformed signer key');
  const [, , name, hash, b64] = parts as [string, string, string, string, string];
  const raw = Buffer.from(b64, 'base64');
  if (!validKeyName(name) || raw.length !== 33 || raw[0] !== ALG_ED25519) throw new NoteError('malformed signer key');
  const s = signerFromSeed(name, raw.subarray(1));
  if (s.keyHash.toString('hex') !== hash) throw new NoteError('signer key hash does not match its key');
  return s;
}

export function parseVerifier(text: string): Verifier {
  const parts = splitPlus(text.trim(), 3);
  if (parts.length !== 3) throw new NoteError(`malformed verifier key "${text.trim().slice(0, 80)}"`);
  const [name, hash, b64] = parts as [string, string, string];
  const raw = Buffer.from(b64, 'base64');
  if (!validKeyName(name) || !/^[0-9a-f]{8}$/.test(hash) || raw.length !== 33 || raw[0] !== ALG_ED25519 || raw.toString('base64') !== b64) {
    throw new NoteError(`malformed verifier key "${text.trim().slice(0, 80)}"`);
  }
  const v = verifierFromParts(name, raw.subarray(1));
  if (v.keyHash.toString('hex') !== hash) throw new NoteError(`verifier key hash does not match its key for "${name}"`);
  return v;
}

/** Signs a note body (must end with a newline) with each signer. */
export function signNote(body: string, signers: Signer[]): string {
  if (!body.endsWith('\n')) throw new NoteError('note text must end with a newline');
  const msg = Buffer.from(body, 'utf8');
  let out = body + '\n';
  for (const s of signers) {
    const sig = sign(null, msg, s.privateKey);
    out += `${SIG_PREFIX}${s.name} ${Buffer.concat([s.keyHash, sig]).toString('base64')}\n`;
  }
  return out;
}

export interface OpenedNote {
  body: string;
  /** Verifiers whose signatures checked out. */
  verifiedBy: Verifier[];
  /** Signature lines from keys we do not know (name and hex key hash). */
  unknown: { name: string; keyHash: string }[];
}

/**
 * Splits a signed note and checks its signatures against `trusted`. Throws NoteError when malformed
 * or when a signature by a trusted key (same name and hash) does not verify.
 */
export function openNote(note: string, trusted: Verifier[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('malformed note: no signature block');
  const body = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split('\n');
  const msg = Buffer.from(body, 'utf8');
  const verifiedBy: Verifier[] = [];
  const unknown: { name: string; keyHash: string }[] = [];
  for (const line of sigLines) {
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError('malformed note: bad signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    if (sp <= 0) throw new NoteError('malformed note: bad signature line');
    const name = rest.slice(0, sp);
    const b64 = rest.slice(sp + 1);
    const raw = Buffer.from(b64, 'base64');
    if (raw.length !== 68 || raw.toString('base64') !== b64) throw new NoteError('malformed note: bad signature encoding');
    const hash = raw.subarray(0, 4);
    const v = trusted.find((t) => t.name === name && t.keyHash.equals(hash));
    if (!v) {
      unknown.push({ name, keyHash: hash.toString('hex') });
      continue;
    }
    if (!verify(null, msg, v.publicKey, raw.subarray(4))) throw new NoteError(`signature by ${name}+${hash.toString('hex')} does not verify`);
    verifiedBy.push(v);
  }
  return { body, verifiedBy, unknown };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export function checkpointBody(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new NoteError('malformed checkpoint');
  const [origin, sizeS, rootS] = lines as [string, string, string];
  if (!origin || !/^(0|[1-9][0-9]{0,15})$/.test(sizeS)) throw new NoteError('malformed checkpoint: tree size');
  const root = Buffer.from(rootS, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootS) throw new NoteError('malformed checkpoint: root hash');
  const size = Number(sizeS);
  if (!Number.isSafeInteger(size)) throw new NoteError('malformed checkpoint: tree size');
  return { origin, size, root };
}

export interface SignedCheckpoint extends Checkpoint {
  note: string;
  verifiedBy: Verifier[];
  unknown: { name: string; keyHash: string }[];
}

/** Parses a checkpoint note and checks signatures; `verifiedBy` is empty when no trusted key signed it. */
export function openCheckpoint(note: string, trusted: Verifier[]): SignedCheckpoint {
  const n = openNote(note, trusted);
  return { ...parseCheckpointBody(n.body), note, verifiedBy: n.verifiedBy, unknown: n.unknown };
}
