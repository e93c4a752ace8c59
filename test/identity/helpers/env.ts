// Small shared test helpers: temp folders, policies from objects, header builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Policy, policySchema } from '../../../src/policy/index.js';

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'wt-identity-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function policyOf(doc: unknown): Policy {
  return new Policy(policySchema.parse(doc));
}

export const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
export const bearer = (token: string): string => `Bearer ${token}`;
