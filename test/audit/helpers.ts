// Shared helpers for the audit tests: temp dirs and a quiet logger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Test } from 'tap';

export const quiet = pino({ level: 'silent' });

export function tempDirs(t: Test): { dataDir: string; certsDir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'wiretrail-audit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return { root, dataDir: join(root, 'data'), certsDir: join(root, 'certs') };
}
