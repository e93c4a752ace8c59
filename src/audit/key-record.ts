// Which signing key belongs to a log: <dataDir>/audit-key.json names the certs folder the log was
// started with and the ids (name+hash) of every key that signed its checkpoints. Offline readers use
// it to find the log's own keyring instead of whatever ./certs happens to sit in the working folder.
// The record only locates keys; it never vouches for one: a key is trusted because it comes from a
// certs folder (the proxy's own keyring) or from --key, never from the data folder.
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Verifier } from './note.js';

export const KEY_RECORD_FILE = 'audit-key.json';

export interface KeyRecord {
  version: 1;
  /** Absolute path of the certs folder the proxy last started with. */
  certsDir: string;
  /** Ids of every key that signed (or signs) this log's checkpoints, oldest first: "<name>+<hex hash>". */
  keyIds: string[];
}

/** "<name>+<hex key hash>": how a signature line names its key. */
export const keyIdOf = (v: Pick<Verifier, 'name' | 'keyHash'>): string => `${v.name}+${v.keyHash.toString('hex')}`;

/** The data folder's key record, or null when there is none (a log from before the record existed). */
export function readKeyRecord(dataDir: string): KeyRecord | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, KEY_RECORD_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${join(dataDir, KEY_RECORD_FILE)} is not valid JSON`);
  }
  const r = v as Partial<KeyRecord>;
  if (r?.version !== 1 || typeof r.certsDir !== 'string' || !Array.isArray(r.keyIds) || !r.keyIds.every((k) => typeof k === 'string')) {
    throw new Error(`${join(dataDir, KEY_RECORD_FILE)} is not a key record (version 1, certsDir, keyIds)`);
  }
  return r as KeyRecord;
}

/**
 * Records that `signer` signs this data folder's log from `certsDir`: adds the record when missing,
 * adds the key id after a rotation, follows a moved certs folder. Written atomically, 0644 (public).
 */
export function recordSigningKey(dataDir: string, certsDir: string, signer: Pick<Verifier, 'name' | 'keyHash'>): void {
  const old = readKeyRecord(dataDir);
  const id = keyIdOf(signer);
  const next: KeyRecord = { version: 1, certsDir: resolve(certsDir), keyIds: old ? [...old.keyIds] : [] };
  if (!next.keyIds.includes(id)) next.keyIds.push(id);
  if (old && old.certsDir === next.certsDir && old.keyIds.length === next.keyIds.length) return;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, KEY_RECORD_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}
