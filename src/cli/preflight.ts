// Checks `wiretrail start` runs before it creates anything (a CA, a data folder, an admin token), so a
// failed start leaves nothing half-created: config, policy, credential sources, upstream CA files,
// folder permissions and ports, each failure one line that says what to do.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import net from 'node:net';
import { Policy, ConfigError } from '../policy/index.js';
import { credentialSourceProblems } from '../identity/index.js';
import { checkDefaultDirs, type Config, type Effective } from '../config/index.js';
import { CliError } from './args.js';

/** Loads the policy, or says where it looked and that --policy names another. */
export function loadPolicyForStart(file: string, fromDefault: boolean): Policy {
  if (!existsSync(file)) {
    throw new CliError(
      fromDefault
        ? `no policy at ${file} (the default, relative to the current folder); pass --policy FILE (an example ships in the package as policies/default.yaml)`
        : `policy file ${file} does not exist`,
    );
  }
  try {
    return Policy.load(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** The nearest folder that exists on the way up from `p` (where mkdir would need permission). */
function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** EACCES before it happens: the folder (or the parent it would be created in) must be writable. */
export function folderProblem(what: string, dir: string): string | null {
  const target = nearestExisting(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const who = uid === null ? 'this user' : `uid ${uid}`;
  try {
    if (!statSync(target).isDirectory()) return `${what} ${dir}: ${target} is not a folder`;
    accessSync(target, constants.W_OK | constants.X_OK);
    if (target === dir) accessSync(target, constants.R_OK);
    return null;
  } catch {
    return target === dir
      ? `${what} ${dir}: permission denied; ${who} needs read, write and search (rwx) permission on ${dir}`
      : `${what} ${dir}: cannot create it: permission denied on ${target}; ${who} needs write and search (wx) permission there, or create ${dir} owned by ${who}`;
  }
}

function portFree(host: string, port: number): Promise<string | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(null)));
  });
}

export interface Preflight {
  policy: Policy;
  /** Lines to print as warnings (missing credential sources allowed by --allow-missing-credentials). */
  warnings: string[];
}

export async function preflight(eff: Effective, cwd = process.cwd()): Promise<Preflight> {
  const config: Config = eff.config;
  const dirs = checkDefaultDirs(eff.values, ['data', 'certs'], cwd);
  if (dirs.length) throw new CliError(dirs[0]!);
  const policy = loadPolicyForStart(config.policyFile, eff.values.get('policy')?.source === 'default');
  const warnings: string[] = [];
  const missing = credentialSourceProblems(policy);
  if (missing.length && !config.allowMissingCredentials) {
    throw new CliError(`credential source unavailable: ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; set it, or start with --allow-missing-credentials to answer 502 for that host until it is`);
  }
  for (const m of missing) warnings.push(`credential source unavailable (allowed by --allow-missing-credentials): ${m}`);
  for (const f of config.upstreamCaFiles) {
    try {
      readFileSync(f);
    } catch (err) {
      throw new CliError(`--upstream-ca: cannot read ${f} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  for (const [what, dir] of [['data folder', config.dataDir], ['certs folder', config.certsDir]] as const) {
    const p = folderProblem(what, dir);
    if (p) throw new CliError(p);
  }
  const ports: [string, { host: string; port: number }][] = [['--listen', config.listen]];
  if (config.admin) ports.push(['--admin', config.admin]);
  for (const [flag, a] of ports) {
    const err = await portFree(a.host, a.port);
    if (err) throw new CliError(`cannot listen on ${a.host}:${a.port} (${flag}): ${err}`);
  }
  return { policy, warnings };
}
