// Opening the LevelDB store, with a clear error when a running proxy holds its lock.
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';

export type Db = Level<string, Buffer>;

export const LOG_DIR = 'log';

export class AuditLockedError extends Error {
  override readonly name = 'AuditLockedError';
}

export class AuditNotFoundError extends Error {
  override readonly name = 'AuditNotFoundError';
}

export function storePath(dataDir: string): string {
  return join(dataDir, LOG_DIR);
}

export async function openDb(dataDir: string, opts: { create: boolean }): Promise<Db> {
  const location = storePath(dataDir);
  if (!opts.create && !existsSync(join(location, 'CURRENT'))) {
    throw new AuditNotFoundError(`no audit log at ${location}`);
  }
  if (opts.create) mkdirSync(location, { recursive: true, mode: 0o700 });
  const db = new Level<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer', createIfMissing: opts.create });
  try {
    await db.open();
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    if (e.code === 'LEVEL_LOCKED' || e.cause?.code === 'LEVEL_LOCKED') {
      throw new AuditLockedError(`the audit log at ${location} is locked by a running proxy`, { cause: err });
    }
    throw new Error(`cannot open the audit log at ${location}: ${e.cause?.message ?? e.message}`, { cause: err });
  }
  return db;
}
