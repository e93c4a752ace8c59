// Defaults must not depend on the current folder by accident: the relative defaults (./data, ./certs)
// are only taken silently inside a wiretrail checkout. Elsewhere a command that would create them asks
// for an explicit --data / --certs instead of minting a CA and key wherever it happens to run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedValue } from './resolve.js';

/** Whether `dir` holds a wiretrail checkout (its package.json is named wiretrail). */
export function isCheckout(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'wiretrail';
  } catch {
    return false;
  }
}

/**
 * Problems with default directories that would be created outside a checkout, one message each.
 * `keys` are the settings the command would create (e.g. ['certs'] for `env`, ['data', 'certs'] for start).
 */
export function checkDefaultDirs(values: Map<string, ResolvedValue>, keys: string[], cwd: string): string[] {
  if (isCheckout(cwd)) return [];
  const problems: string[] = [];
  for (const key of keys) {
    const v = values.get(key);
    if (!v || v.source !== 'default' || typeof v.value !== 'string' || existsSync(v.value)) continue;
    problems.push(
      `no ${key} folder given and ${v.value} does not exist; pass --${key} DIR (or WIRETRAIL_${key.toUpperCase()}, or "${key}:" in --config) ` +
        `so that ${key === 'certs' ? 'a new CA and its private key are' : 'the audit log is'} not created in the current folder by accident`,
    );
  }
  return problems;
}
