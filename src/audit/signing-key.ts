// The checkpoint signing key in the certs folder, its rotation and the public keyring.
//   <certs>/audit-log.key  signer key (secret, 0600), the current key only
//   <certs>/audit-log.pub  every verifier key this log ever used, one per line, newest last
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigner, parseSigner, parseVerifier, type Signer, type Verifier } from './note.js';

export const SIGNING_KEY_FILE = 'audit-log.key';
export const PUBLIC_KEYS_FILE = 'audit-log.pub';

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Verifier keys listed in <certs>/audit-log.pub ([] when the file is absent). */
export function readPublicKeys(certsDir: string): Verifier[] {
  return parseKeyList(readIfExists(join(certsDir, PUBLIC_KEYS_FILE)) ?? '', join(certsDir, PUBLIC_KEYS_FILE));
}

/** Parses verifier keys, one per line; blank lines and # comments are ignored. */
export function parseKeyList(text: string, source: string): Verifier[] {
  const out: Verifier[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    try {
      out.push(parseVerifier(t));
    } catch (err) {
      throw new Error(`${source}:${i + 1}: ${(err as Error).message}`);
    }
  }
  return out;
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function addPublicKey(certsDir: string, v: Verifier): void {
  const path = join(certsDir, PUBLIC_KEYS_FILE);
  const existing = readIfExists(path) ?? '';
  if (existing.split('\n').some((l) => l.trim() === v.text)) return;
  const sep = existing && !existing.endsWith('\n') ? '\n' : '';
  writeAtomic(path, existing + sep + v.text + '\n', 0o644);
}

/** Loads the signing key, creating it (0600) on first use; keeps its public key in the keyring. */
export function loadOrCreateSigner(certsDir: string, name: string): Signer {
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const path = join(certsDir, SIGNING_KEY_FILE);
  const text = readIfExists(path);
  let signer: Signer;
  if (text === null) {
    signer = generateSigner(name);
    writeAtomic(path, signer.secretText + '\n', 0o600);
  } else {
    signer = parseSigner(text);
    // Keep the key private even if someone loosened its mode.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
  addPublicKey(certsDir, signer);
  return signer;
}

/** Replaces the signing key with a fresh one; old public keys stay in the keyring. */
export function rotateSigningKey(certsDir: string, name: string): Signer {
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const signer = generateSigner(name);
  addPublicKey(certsDir, signer);
  writeAtomic(join(certsDir, SIGNING_KEY_FILE), signer.secretText + '\n', 0o600);
  return signer;
}

export function hasSigningKey(certsDir: string): boolean {
  return existsSync(join(certsDir, SIGNING_KEY_FILE));
}
