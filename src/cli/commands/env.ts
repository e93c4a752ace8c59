// `wiretrail env`: the lines a client needs (proxy + CA trust). Creates the CA when there is none yet,
// through the same code path as `wiretrail start`, so `eval "$(wiretrail env)"` works before the first start.
import { resolve, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from '../main.js';
import { parse, settings, CliError, UsageError, DIR_OPTIONS } from '../args.js';
import { checkDefaultDirs } from '../../config/index.js';
import {
  loadOrCreateCA,
  clientEnv,
  formatEnv,
  writeTrustBundle,
  checkProxyUrl,
  parseNoProxy,
  DEFAULT_PROXY_URL,
  DEFAULT_NO_PROXY,
  BUNDLE_FILE,
  caPaths,
  SHELLS,
  CLIENTS,
  clientRecipe,
  formatEnvLines,
  nodeProxyPreload,
  preloadOption,
  preloadPath,
  type ClientName,
  type EnvLine,
  type Shell,
} from '../../ca/index.js';

const USAGE = `wiretrail env [--config FILE] [--client NAME] [--proxy URL] [--certs DIR] [--no-proxy LIST] [--bundle FILE] [--shell sh|fish|powershell]

  Prints environment lines for a client: eval "$(wiretrail env)" (sh), wiretrail env --shell fish | source,
  wiretrail env --shell powershell | Invoke-Expression.
  --proxy     proxy URL (default ${DEFAULT_PROXY_URL})
  --certs     certificate directory (default ./certs inside a checkout; elsewhere give it, or
              WIRETRAIL_CERTS / certs: in --config); the CA is created there if missing
  --no-proxy  comma-separated hosts that bypass the proxy (default ${DEFAULT_NO_PROXY.join(',')})
  --bundle    where to write system roots + our CA (default <certs>/${BUNDLE_FILE})
  --shell     output syntax (default sh)
  --client    only the lines one client needs, each with a note: ${CLIENTS.join('|')}
  On Node.js < 22.21 (which ignores NODE_USE_ENV_PROXY) NODE_OPTIONS loads a preload that makes fetch use the proxy.`;

export const command: Command = {
  summary: 'print the environment lines that point a client at wiretrail',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        proxy: { type: 'string' },
        ...DIR_OPTIONS,
        'no-proxy': { type: 'string' },
        bundle: { type: 'string' },
        shell: { type: 'string' },
        client: { type: 'string' },
      },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const shell = (values.shell ?? 'sh') as Shell;
    if (!SHELLS.includes(shell)) throw new UsageError(`--shell: expected sh, fish or powershell, got "${values.shell}"`);
    const client = values.client as ClientName | undefined;
    if (client !== undefined && !CLIENTS.includes(client)) throw new UsageError(`--client: expected one of ${CLIENTS.join(', ')}, got "${values.client}"`);
    let proxyUrl: string;
    let noProxy: string[];
    try {
      proxyUrl = checkProxyUrl(values.proxy ?? DEFAULT_PROXY_URL);
      noProxy = values['no-proxy'] !== undefined ? parseNoProxy(values['no-proxy']) : [...DEFAULT_NO_PROXY];
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const eff = settings(values);
    const certsDir = eff.config.certsDir;
    // Outside a checkout, never mint a CA and key in ./certs just because that is where we were run.
    if (!existsSync(caPaths(certsDir).certPath)) {
      const problems = checkDefaultDirs(eff.values, ['certs'], process.cwd());
      if (problems.length) throw new CliError(problems[0]!);
    }
    const bundlePath = resolve(values.bundle ?? join(certsDir, BUNDLE_FILE));

    let ca;
    try {
      ca = await loadOrCreateCA({ certsDir });
      writeTrustBundle(bundlePath, ca.certPem, ca.subject.split('\n')[0] ?? 'wiretrail CA');
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    // stderr, so that stdout stays safe to eval.
    if (ca.created) process.stderr.write(`wiretrail env: created a new CA at ${ca.certPath} (sha256 ${ca.fingerprint256})\n`);
    for (const w of ca.warnings) process.stderr.write(`wiretrail env: warning: ${w}\n`);

    const base = { proxyUrl, caCertPath: ca.certPath, bundlePath, noProxy };
    const recipe = { ...base, nodeVersion: process.version, preloadPath: preloadPath() };
    let out: string;
    if (client) out = formatEnvLines(clientRecipe(client, recipe), shell, formatEnv);
    else {
      // Every line; plus the preload when the Node running this command ignores NODE_USE_ENV_PROXY.
      const pre = nodeProxyPreload(process.version);
      const extra: EnvLine[] = pre.needed ? [{ name: 'NODE_OPTIONS', value: preloadOption(recipe.preloadPath), note: pre.why }] : [];
      out = formatEnv(clientEnv(base), shell) + formatEnvLines(extra, shell, formatEnv);
    }
    await new Promise<void>((res, rej) => process.stdout.write(out, (err) => (err ? rej(err) : res())));
    return 0;
  },
};
