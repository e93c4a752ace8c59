// wiretrail login: exchanges an OIDC token (a CI job's id token) for a wiretrail credential that
// outlives it, and prints the lines a job puts in its environment (e.g. >> $GITHUB_ENV).
import { readFileSync, existsSync } from 'node:fs';
import type { Command } from '../main.js';
import { DEFAULT_POLICY_FILE } from '../../config/index.js';
import { CliError, UsageError, parse, parseHostPort, settings, adminUrl } from '../args.js';
import { AdminError, adminFetch } from '../../admin/client.js';
import { Policy, defaultPolicy } from '../../policy/index.js';
import { createAuthenticator, parseDuration, tokenJson, type TokenJson } from '../../identity/index.js';

const USAGE = `wiretrail login --oidc-token TOKEN|@FILE|- [--ttl DURATION] [--name NAME]
  [--admin URL (default $WIRETRAIL_ADMIN_URL or http://127.0.0.1:8081) | --data DIR [--policy FILE]]
  [--proxy HOST:PORT (default $WIRETRAIL_PROXY or the admin host, port 8080)] [--user NAME] [--token-only]`;

const options = {
  'oidc-token': { type: 'string' },
  ttl: { type: 'string' },
  name: { type: 'string' },
  admin: { type: 'string' },
  data: { type: 'string' },
  policy: { type: 'string' },
  proxy: { type: 'string' },
  user: { type: 'string' },
  'token-only': { type: 'boolean' },
} as const;


async function readTokenArg(arg: string): Promise<string> {
  let text: string;
  if (arg === '-') {
    const parts: Buffer[] = [];
    for await (const c of process.stdin) parts.push(c as Buffer);
    text = Buffer.concat(parts).toString('utf8');
  } else if (arg.startsWith('@')) {
    try {
      text = readFileSync(arg.slice(1), 'utf8');
    } catch (err) {
      throw new CliError(`--oidc-token ${arg}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  } else text = arg;
  const token = text.trim();
  if (!token) throw new CliError('--oidc-token: the token is empty');
  return token;
}

async function viaAdmin(base: string, body: { token: string; ttl?: number; name?: string }): Promise<{ token: string; info: TokenJson }> {
  try {
    const res = await adminFetch(base, '/v1/token', { method: 'POST', body });
    const { token, ...info } = (await res.json()) as TokenJson & { token: string };
    return { token, info };
  } catch (err) {
    if (err instanceof AdminError) throw new CliError(`token exchange refused: ${err.message}`);
    throw err;
  }
}

async function direct(dataDir: string, policyFile: string | undefined, oidcToken: string, ttl: number | undefined, name: string | undefined) {
  let policy: Policy;
  try {
    policy = policyFile ? Policy.load(policyFile) : existsSync(DEFAULT_POLICY_FILE) ? Policy.load(DEFAULT_POLICY_FILE) : defaultPolicy();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const auth = await createAuthenticator({ policy, dataDir }).catch((err: Error) => {
    throw new CliError(err.message);
  });
  try {
    const out = await auth.exchange(oidcToken, { ...(ttl ? { ttlSeconds: ttl } : {}), ...(name ? { name } : {}) });
    return { token: out.token, info: tokenJson(out.info) };
  } catch (err) {
    throw new CliError(`token exchange refused: ${(err as Error).message}`);
  } finally {
    await auth.close();
  }
}

export const command: Command = {
  summary: 'exchange an OIDC token for a wiretrail credential and print the HTTPS_PROXY line using it',
  async run(argv) {
    const { values, positionals } = parse(argv, options, USAGE);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument\nusage: ${USAGE}`);
    if (!values['oidc-token']) throw new UsageError(`--oidc-token is required\nusage: ${USAGE}`);
    if (values.admin && values.data) throw new UsageError(`give --admin or --data, not both\nusage: ${USAGE}`);
    if (values.policy && !values.data) throw new UsageError(`--policy applies with --data only\nusage: ${USAGE}`);
    let ttl: number | undefined;
    if (values.ttl !== undefined) {
      try {
        ttl = parseDuration(values.ttl);
      } catch (err) {
        throw new UsageError(`--ttl: ${(err as Error).message}`);
      }
    }
    const user = values.user ?? 'wt';
    if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new UsageError('--user: letters, digits, dot, dash and underscore only');
    const eff = settings(values);
    const admin = adminUrl(values.admin ?? process.env.WIRETRAIL_ADMIN_URL ?? 'http://127.0.0.1:8081');
    // A policy named by --config or WIRETRAIL_POLICY counts like --policy.
    const policyFile = values.policy ?? (eff.values.get('policy')!.source !== 'default' ? eff.config.policyFile : undefined);
    let proxy = values.proxy ?? process.env.WIRETRAIL_PROXY;
    if (!proxy) {
      if (values.data) proxy = '127.0.0.1:8080';
      else {
        let host: string;
        try {
          host = new URL(admin).hostname;
        } catch {
          throw new UsageError(`--admin: not a URL: ${admin}`);
        }
        proxy = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:8080`;
      }
    }
    proxy = proxy.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    parseHostPort(proxy, '--proxy');

    const oidcToken = await readTokenArg(values['oidc-token']);
    const { token, info } = values.data
      ? await direct(eff.config.dataDir, policyFile, oidcToken, ttl, values.name)
      : await viaAdmin(admin, { token: oidcToken, ...(ttl ? { ttl } : {}), ...(values.name ? { name: values.name } : {}) });

    if (values['token-only']) process.stdout.write(token + '\n');
    else process.stdout.write(`WIRETRAIL_TOKEN=${token}\nHTTPS_PROXY=http://${user}:${token}@${proxy}\n`);
    process.stderr.write(`wiretrail login: credential ${info.id} for ${info.subject ?? info.name}, expires ${info.expiresAt ?? 'never'}\n`);
    return 0;
  },
};
