// Opaque wiretrail credentials (`wt_…`): exchanged for OIDC tokens or created as static machine
// tokens. Only the SHA-256 of a credential is stored. The store is <dataDir>/tokens.json, shared by
// the running proxy and the CLI: writers take a lock file, rewrite the whole file and rename it into
// place (readers never see half a file); readers reload when the file's inode/size/mtime change,
// checked before each lookup, so a revocation made by another process counts on the next request.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { withFileLock } from './file-lock.js';

export const TOKENS_FILE = 'tokens.json';
export const CREDENTIAL_PREFIX = 'wt_';
/** Expired or revoked entries are kept this long for `tokens list`, then dropped on the next write. */
const KEEP_ENDED_MS = 7 * 86400_000;

const storedIdentity = z.object({
  subject: z.string().nullable(),
  email: z.string().optional(),
  groups: z.array(z.string()),
  issuer: z.string().optional(),
  attributes: z.record(z.string(), z.string()),
  /** Exchanged credentials: the values of the issuer's required_claims at exchange, re-checked on every use. */
  claims: z.record(z.string(), z.array(z.string())).optional(),
});

const tokenRecord = z.object({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  /** Hex SHA-256 of the whole credential string. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  kind: z.enum(['static', 'exchanged']),
  name: z.string(),
  identity: storedIdentity,
  createdAt: z.number().int(),
  expiresAt: z.number().int().nullable(),
  revokedAt: z.number().int().nullable(),
});

const storeFile = z.object({ version: z.literal(1), tokens: z.array(tokenRecord) });

export type StoredIdentity = z.infer<typeof storedIdentity>;
export type TokenRecord = z.infer<typeof tokenRecord>;
export type TokenStatus = 'active' | 'expired' | 'revoked';
/** What listings show: never the hash. */
export type TokenInfo = Omit<TokenRecord, 'sha256'> & { status: TokenStatus };

export function hashCredential(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isCredential(token: string): boolean {
  return token.startsWith(CREDENTIAL_PREFIX);
}

export function tokenStatus(r: TokenRecord, now = Date.now()): TokenStatus {
  if (r.revokedAt !== null) return 'revoked';
  if (r.expiresAt !== null && now >= r.expiresAt) return 'expired';
  return 'active';
}

export function tokenInfo(r: TokenRecord, now = Date.now()): TokenInfo {
  const { sha256: _hash, ...rest } = r;
  return { ...rest, status: tokenStatus(r, now) };
}

export class TokenStoreError extends Error {
  override readonly name = 'TokenStoreError';
}

export class TokenStore {
  private records: TokenRecord[] = [];
  private byHash = new Map<string, TokenRecord>();
  private byId = new Map<string, TokenRecord>();
  private signature = '';
  private checking: Promise<void> | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  private broken: Error | null = null;

  private constructor(readonly dir: string) {}

  get file(): string {
    return join(this.dir, TOKENS_FILE);
  }

  /** Opens (or starts) the store in `dir`; throws TokenStoreError when the file is unreadable. */
  static async open(dir: string): Promise<TokenStore> {
    const s = new TokenStore(dir);
    await s.refresh();
    return s;
  }

  /** Reloads when another process rewrote the file. Concurrent callers share one stat. */
  refresh(): Promise<void> {
    if (!this.checking) {
      this.checking = this.reloadIfChanged().finally(() => {
        this.checking = null;
      });
    }
    return this.checking;
  }

  private async currentSignature(): Promise<string> {
    try {
      const st = await stat(this.file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw err;
    }
  }

  private async reloadIfChanged(): Promise<void> {
    try {
      const sig = await this.currentSignature();
      if (sig === this.signature && !this.broken) return;
      const records = await this.readFromDisk();
      this.install(records, sig);
      this.broken = null;
    } catch (err) {
      // Fail closed: no credential is accepted until the file reads again.
      this.broken = err instanceof TokenStoreError ? err : new TokenStoreError(`${this.file}: ${(err as Error).message}`);
      this.signature = '';
      throw this.broken;
    }
  }

  private async readFromDisk(): Promise<TokenRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TokenStoreError(`${this.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new TokenStoreError(`${this.file} is not valid JSON`);
    }
    const parsed = storeFile.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TokenStoreError(`${this.file}: invalid at ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    return parsed.data.tokens;
  }

  private install(records: TokenRecord[], sig: string): void {
    this.records = records;
    this.byHash = new Map(records.map((r) => [r.sha256, r]));
    this.byId = new Map(records.map((r) => [r.id, r]));
    this.signature = sig;
  }

  /** The record for a presented credential, after a freshness check. */
  async lookup(token: string): Promise<TokenRecord | undefined> {
    await this.refresh();
    return this.byHash.get(hashCredential(token));
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    await this.refresh();
    return this.byId.get(id);
  }

  async list(now = Date.now()): Promise<TokenInfo[]> {
    await this.refresh();
    return this.records.map((r) => tokenInfo(r, now)).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Creates a credential; the clear value is returned once and never stored. */
  async issue(input: { kind: TokenRecord['kind']; name: string; identity: StoredIdentity; ttlSeconds: number | null }): Promise<{ token: string; record: TokenRecord }> {
    const token = CREDENTIAL_PREFIX + randomBytes(32).toString('base64url');
    const now = Date.now();
    return this.mutate((records) => {
      let id: string;
      do id = randomBytes(6).toString('hex');
      while (records.some((r) => r.id === id));
      const record: TokenRecord = {
        id,
        sha256: hashCredential(token),
        kind: input.kind,
        name: input.name,
        identity: input.identity,
        createdAt: now,
        expiresAt: input.ttlSeconds === null ? null : now + input.ttlSeconds * 1000,
        revokedAt: null,
      };
      records.push(record);
      return { token, record };
    });
  }

  /** Revokes by id or by the credential itself; null when no such token. Revoking twice keeps the first time. */
  async revoke(idOrToken: string): Promise<TokenRecord | null> {
    const key = isCredential(idOrToken) ? { sha256: hashCredential(idOrToken) } : { id: idOrToken };
    return this.mutate((records) => {
      const r = records.find((x) => ('id' in key ? x.id === key.id : x.sha256 === key.sha256));
      if (!r) return null;
      if (r.revokedAt === null) r.revokedAt = Date.now();
      return { ...r };
    });
  }

  /** Read-modify-write under the in-process queue and the cross-process lock file. */
  private mutate<T>(change: (records: TokenRecord[]) => T): Promise<T> {
    const run = async (): Promise<T> => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      return withFileLock(this.file + '.lock', async () => {
        const records = await this.readFromDisk();
        const result = change(records);
        const now = Date.now();
        const kept = records.filter((r) => {
          const ended = r.revokedAt ?? (r.expiresAt !== null && r.expiresAt <= now ? r.expiresAt : null);
          return ended === null || now - ended < KEEP_ENDED_MS;
        });
        await this.writeAtomically(JSON.stringify({ version: 1, tokens: kept }, null, 1) + '\n');
        this.install(kept, await this.currentSignature());
        this.broken = null;
        return result;
      });
    };
    const p = this.writes.then(run, run);
    this.writes = p.catch(() => undefined);
    return p;
  }

  private async writeAtomically(text: string): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new TokenStoreError(`cannot write ${this.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    // Make the rename durable (best effort: some filesystems refuse fsync on a directory).
    const dh = await open(this.dir, 'r').catch(() => null);
    if (dh) await dh.sync().catch(() => undefined).finally(() => dh.close());
  }
}
