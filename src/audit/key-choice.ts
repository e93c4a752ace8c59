// Which public keys an offline reader (verify, export) trusts for a log, and one line saying why.
//   --key FILE|KEY (repeatable)  exactly these keys, nothing else (pinning: a replaced certs folder cannot vouch)
//   --certs DIR                  that folder's keyring
//   neither                      the certs folder the data folder's key record names (audit-key.json),
//                                else ./certs, said out loud: it may belong to another instance
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readPublicKeys, PUBLIC_KEYS_FILE } from './signing-key.js';
import { keyIdOf, readKeyRecord, KEY_RECORD_FILE, type KeyRecord } from './key-record.js';
import { loadTrustedKeys } from './local-reader.js';
import { ReaderError } from './reader.js';
import type { Verifier } from './note.js';

export interface KeyChoice {
  /** Exactly the keys whose signatures count. */
  keys: Verifier[];
  /** Where they came from (a keyring file, or the --key arguments). */
  source: string;
  /** Why that source, for the one line the CLI prints. */
  reason: string;
}

export interface KeyChoiceInput {
  dataDir: string;
  /** --key values: files of verifier keys, or keys themselves. */
  keyArgs: string[];
  /** --certs when given explicitly (undefined: not given). */
  certsDir: string | undefined;
  /** The folder tried last; default ./certs. */
  defaultCertsDir?: string;
}

/** Picks the trusted keys for the log in input.dataDir; throws ReaderError when there are none. */
export function chooseLogKeys(input: KeyChoiceInput): KeyChoice {
  if (input.keyArgs.length) {
    return { keys: loadTrustedKeys(input.keyArgs, null), source: input.keyArgs.join(', '), reason: 'given with --key; no other key is trusted' };
  }
  const record = readRecord(input.dataDir);
  const { dir, reason } = certsFolder(input, record);
  const file = join(dir, PUBLIC_KEYS_FILE);
  const keys = readPublicKeys(dir);
  if (!keys.length) throw new ReaderError(`no public key to check checkpoint signatures: ${file} does not exist (${reason}); pass --certs DIR or --key FILE`);
  return { keys, source: resolve(file), reason: reason + recordMismatch(keys, record) };
}

function readRecord(dataDir: string): KeyRecord | null {
  try {
    return readKeyRecord(dataDir);
  } catch (err) {
    throw new ReaderError((err as Error).message);
  }
}

function certsFolder(input: KeyChoiceInput, record: KeyRecord | null): { dir: string; reason: string } {
  if (input.certsDir !== undefined) return { dir: input.certsDir, reason: 'from --certs' };
  const fallback = input.defaultCertsDir ?? './certs';
  const recordFile = join(input.dataDir, KEY_RECORD_FILE);
  if (!record) return { dir: fallback, reason: `default ${fallback}: ${recordFile} does not exist (a log started before wiretrail recorded its key); pass --certs DIR or --key FILE if it belongs to another instance` };
  if (existsSync(join(record.certsDir, PUBLIC_KEYS_FILE))) return { dir: record.certsDir, reason: `the certs folder this log was started with, recorded in ${recordFile}` };
  return { dir: fallback, reason: `default ${fallback}: the certs folder recorded in ${recordFile} (${record.certsDir}) has no ${PUBLIC_KEYS_FILE}` };
}

/** A note when the chosen keyring holds none of the key ids the log recorded. */
function recordMismatch(keys: Verifier[], record: KeyRecord | null): string {
  if (!record || !record.keyIds.length) return '';
  const ids = new Set(keys.map(keyIdOf));
  if (record.keyIds.some((id) => ids.has(id))) return '';
  return `; it does not hold the key this log recorded (key id ${record.keyIds[record.keyIds.length - 1]})`;
}

/** The one line: "key: <source> (<reason>)". */
export const keyChoiceLine = (c: KeyChoice): string => `key: ${c.source} (${c.reason})`;
