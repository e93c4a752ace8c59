// wiretrail command dispatcher. Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './errors.js';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

// Loaded lazily so `wiretrail mask` does not pay for the proxy's imports.
const commands: Record<string, () => Promise<{ command: Command }>> = {
  start: () => import('./commands/start.js'),
  ca: () => import('./commands/ca.js'),
  env: () => import('./commands/env.js'),
  verify: () => import('./commands/verify.js'),
  export: () => import('./commands/export.js'),
  'verify-bundle': () => import('./commands/verify-bundle.js'),
  sessions: () => import('./commands/sessions.js'),
  'log-key': () => import('./commands/log-key.js'),
  mask: () => import('./commands/mask.js'),
  login: () => import('./commands/login.js'),
  tokens: () => import('./commands/tokens.js'),
  firewall: () => import('./commands/firewall.js'),
  policy: () => import('./commands/policy.js'),
  approvals: () => import('./commands/approvals.js'),
  config: () => import('./commands/config.js'),
};

async function usage(): Promise<string> {
  const lines = ['usage: wiretrail <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) {
    let summary = '';
    try {
      summary = (await load()).command.summary;
    } catch {
      summary = '(unavailable)';
    }
    lines.push(`  ${name.padEnd(14)} ${summary}`);
  }
  lines.push('', 'Run `wiretrail <command> --help` for its options; `wiretrail --version` prints the version.');
  return lines.join('\n');
}

/** The package version, read from package.json beside src/ (and beside dist/src/ when built). */
export function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wiretrail' && pkg.version) return pkg.version;
    } catch {
      /* try the next layout */
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process[name ? 'stdout' : 'stderr'].write((await usage()) + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`wiretrail: unknown command "${name}"\n${await usage()}\n`);
    return 2;
  }
  try {
    const { command } = await load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`wiretrail ${name}: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`wiretrail ${name}: ${msg.split('\n')[0]}\n`);
    if (process.env.WIRETRAIL_DEBUG && !(err instanceof CliError)) process.stderr.write(String((err as Error).stack) + '\n');
    return 1;
  }
}
