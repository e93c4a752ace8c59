// wiretrail tokens list|revoke|create: wiretrail credentials, directly on the data folder (also while
// the proxy runs: the store is a locked, atomically replaced file) or through a running proxy's admin API.
import type { Command } from '../main.js';
import { CliError, UsageError, parse, settings, adminUrl } from '../args.js';
import { AdminError, adminFetch, readAdminToken } from '../../admin/client.js';
import { TokenStore, createStaticToken, parseDuration, formatDuration, tokenJson, printable, type TokenJson } from '../../identity/index.js';

const USAGE = `wiretrail tokens list [--json] | revoke ID | create --name NAME [--ttl DURATION] [--groups a,b] [--json]
  where: --data DIR (default ./data) works on the token store directly; --admin URL [--certs DIR] uses a running proxy`;

const options = {
  data: { type: 'string' },
  admin: { type: 'string' },
  certs: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  ttl: { type: 'string' },
  groups: { type: 'string' },
} as const;

interface Backend {
  list(): Promise<TokenJson[]>;
  revoke(id: string): Promise<TokenJson | null>;
  create(name: string, ttlSeconds: number | null, groups: string[]): Promise<{ token: string; info: TokenJson }>;
}

function directBackend(dir: string): Backend {
  const store = () =>
    TokenStore.open(dir).catch((err: Error) => {
      throw new CliError(err.message);
    });
  return {
    async list() {
      return (await (await store()).list()).map(tokenJson);
    },
    async revoke(id) {
      const s = await store();
      const r = await s.revoke(id);
      if (!r) return null;
      return (await s.list()).map(tokenJson).find((t) => t.id === r.id) ?? null;
    },
    async create(name, ttlSeconds, groups) {
      try {
        const out = await createStaticToken(await store(), { name, ttlSeconds, groups });
        return { token: out.token, info: tokenJson(out.info) };
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    },
  };
}

function adminBackend(base: string, certsDir: string): Backend {
  const token = readAdminToken(certsDir);
  if (!token) throw new CliError(`no admin token: set WIRETRAIL_ADMIN_TOKEN or point --certs at the proxy's certs folder (${certsDir}/admin.token)`);
  const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    try {
      return await adminFetch(base, path, { ...init, token });
    } catch (err) {
      if (err instanceof AdminError) {
        if (err.status === 404 && init.method === 'DELETE') return null;
        throw new CliError(err.message);
      }
      throw err;
    }
  };
  return {
    async list() {
      const res = await call('/v1/tokens');
      return ((await res!.json()) as { tokens: TokenJson[] }).tokens;
    },
    async revoke(id) {
      const res = await call(`/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
      return res ? ((await res.json()) as TokenJson) : null;
    },
    async create(name, ttlSeconds, groups) {
      const res = await call('/v1/tokens', { method: 'POST', body: { name, ...(ttlSeconds ? { ttl: ttlSeconds } : {}), groups } });
      const { token, ...info } = (await res!.json()) as TokenJson & { token: string };
      return { token, info };
    },
  };
}

function table(tokens: TokenJson[]): string {
  const rows = [['ID', 'KIND', 'STATUS', 'NAME', 'SUBJECT', 'GROUPS', 'EXPIRES']];
  for (const t of tokens) {
    // Names, subjects and groups come from callers and tokens: escaped so they cannot drive the terminal.
    rows.push([t.id, t.kind, t.status, t.name, t.subject ?? '-', t.groups.join(',') || '-', t.expiresAt ?? 'never'].map(printable));
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export const command: Command = {
  summary: 'list, revoke or create wiretrail credentials (static tokens for machines without an IdP)',
  async run(argv) {
    const { values, positionals } = parse(argv, options, USAGE, true);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const [sub, ...rest] = positionals;
    if (values.admin && values.data) throw new UsageError(`give --data or --admin, not both\nusage: ${USAGE}`);
    const { certsDir, dataDir } = settings(values).config;
    const backend = values.admin ? adminBackend(adminUrl(values.admin), certsDir) : directBackend(dataDir);
    const onlyFor = (cmd: string, ...flags: (keyof typeof values)[]) => {
      for (const f of flags) if (values[f] !== undefined) throw new UsageError(`--${f} applies to "tokens ${cmd}" only\nusage: ${USAGE}`);
    };
    switch (sub) {
      case 'list': {
        if (rest.length) throw new UsageError(`tokens list takes no arguments\nusage: ${USAGE}`);
        onlyFor('create', 'name', 'ttl', 'groups');
        const tokens = await backend.list();
        process.stdout.write(values.json ? JSON.stringify(tokens, null, 2) + '\n' : tokens.length ? table(tokens) + '\n' : 'no tokens\n');
        return 0;
      }
      case 'revoke': {
        if (rest.length !== 1) throw new UsageError(`tokens revoke takes one token ID\nusage: ${USAGE}`);
        onlyFor('create', 'name', 'ttl', 'groups');
        const id = rest[0]!;
        if (!/^[0-9a-f]{12}$/.test(id)) throw new UsageError(`"${id.startsWith('wt_') ? 'wt_…' : id}" is not a token ID (12 hex characters, see tokens list)`);
        const t = await backend.revoke(id);
        if (!t) throw new CliError(`no token with id ${id}`);
        process.stdout.write(values.json ? JSON.stringify(t, null, 2) + '\n' : `revoked ${t.id} (${printable(t.name)})\n`);
        return 0;
      }
      case 'create': {
        if (rest.length) throw new UsageError(`tokens create takes options only\nusage: ${USAGE}`);
        if (!values.name) throw new UsageError(`tokens create needs --name NAME\nusage: ${USAGE}`);
        let ttl: number | null = null;
        if (values.ttl !== undefined) {
          try {
            ttl = parseDuration(values.ttl);
          } catch (err) {
            throw new UsageError(`--ttl: ${(err as Error).message}`);
          }
        }
        const groups = values.groups ? values.groups.split(',').map((g) => g.trim()).filter(Boolean) : [];
        const { token, info } = await backend.create(values.name, ttl, groups);
        if (values.json) process.stdout.write(JSON.stringify({ token, ...info }, null, 2) + '\n');
        else {
          process.stdout.write(token + '\n');
          process.stderr.write(
            `created static token ${info.id} (${info.name}), ${ttl ? `expires in ${formatDuration(ttl)} (${info.expiresAt})` : 'no expiry'}; ` +
              'it is shown only now: use it as the password in HTTPS_PROXY=http://wt:TOKEN@PROXY_HOST:PORT\n',
          );
        }
        return 0;
      }
      case undefined:
        throw new UsageError(`missing subcommand\nusage: ${USAGE}`);
      default:
        throw new UsageError(`unknown subcommand "${sub}"\nusage: ${USAGE}`);
    }
  },
};
