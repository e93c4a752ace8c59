// `wiretrail start`: resolves the configuration, checks everything before creating anything, then wires
// every stage together (src/runtime.ts) and runs until SIGTERM/SIGINT (graceful drain) or SIGHUP (reload).
import type { Command } from '../main.js';
import { parse, settings, CliError, UsageError, DIR_OPTIONS, ADMIN_OPTION } from '../args.js';
import { preflight } from '../preflight.js';
import type { Effective } from '../../config/index.js';
import { startWiretrail } from '../../runtime.js';

const USAGE = `wiretrail start [--config FILE] [--listen HOST:PORT] [--admin HOST:PORT|off] [--data DIR] [--certs DIR]
                [--policy FILE] [--upstream-ca FILE]... [--connect-to HOST:PORT:ADDR:PORT]... [--log-level LEVEL]
                [--shutdown-grace-seconds N] [--allow-missing-credentials]

  Every setting can also come from WIRETRAIL_<KEY> (e.g. WIRETRAIL_LISTEN, WIRETRAIL_LIMITS_MAX_REQUEST_BODY_BYTES)
  or the --config file (WIRETRAIL_CONFIG); precedence: flags > environment > config file > defaults.
  \`wiretrail config show\` prints the effective values and where each came from.
  SIGTERM/SIGINT: no new connections; in-flight streams get --shutdown-grace-seconds (default 30), then are
  ended cleanly (recorded as ended by shutdown); every session ends, a final checkpoint is signed, exit 0.
  SIGHUP re-reads the upstream CA files and re-checks the credential sources (and the policy).`;

export const START_OPTIONS = {
  ...DIR_OPTIONS,
  ...ADMIN_OPTION,
  listen: { type: 'string' },
  policy: { type: 'string' },
  'upstream-ca': { type: 'string', multiple: true },
  'connect-to': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'shutdown-grace-seconds': { type: 'string' },
  'allow-missing-credentials': { type: 'boolean' },
} as const;

/** The effective configuration for `start` flags (flags > WIRETRAIL_* > config file > defaults). */
export function buildEffective(argv: string[]): Effective {
  const { values } = parse(argv, START_OPTIONS, USAGE);
  if (values.help) throw new UsageError(USAGE);
  return settings(values, 'server');
}

export const command: Command = {
  summary: 'run the proxy (and its admin API)',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const eff = buildEffective(argv);
    const { warnings } = await preflight(eff);
    for (const w of warnings) process.stderr.write(`wiretrail start: warning: ${w}\n`);
    let running;
    try {
      running = await startWiretrail(eff.config);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const stop = (signal: string) => {
      void running.shutdown(signal).then(
        (ok) => process.exit(ok ? 0 : 1),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // Upstream CA files and credential sources; never exits the process (the default SIGHUP action would).
    process.on('SIGHUP', () => running.reload('SIGHUP'));
    // Policy reload: validated first; a bad file is refused with one log line and the old policy stays.
    process.on('SIGHUP', () => void running.reloadPolicy('SIGHUP'));
    // Keep running until a signal arrives.
    await new Promise<never>(() => undefined);
    return 0;
  },
};
