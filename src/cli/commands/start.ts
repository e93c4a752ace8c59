// `wiretrail start`: wires every stage together and runs the proxy and the admin API.
import { readFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '../main.js';
import { parse, parseHostPort, CliError, UsageError } from '../args.js';
import { loadConfigFile, resolvePath, type Config, type ConfigFile } from '../../config/index.js';
import { startWiretrail } from '../../runtime.js';

const USAGE =
  'wiretrail start [--config FILE] [--listen HOST:PORT] [--admin HOST:PORT|off] [--data DIR] [--certs DIR] [--policy FILE] [--upstream-ca FILE]... [--connect-to HOST:PORT:ADDR:PORT]... [--log-level LEVEL]';

/** Defaults < config file < flags. */
export function buildConfig(argv: string[]): Config {
  const { values } = parse(
    argv,
    {
      config: { type: 'string' },
      listen: { type: 'string' },
      admin: { type: 'string' },
      data: { type: 'string' },
      certs: { type: 'string' },
      policy: { type: 'string' },
      'upstream-ca': { type: 'string', multiple: true },
      'connect-to': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) throw new UsageError(USAGE);
  let file: ConfigFile = {};
  let base = process.cwd();
  if (values.config) ({ cfg: file, base } = loadConfigFile(values.config));
  const cwd = process.cwd();
  const pick = (flag: string | undefined, fromFile: string | undefined, def: string, isPath: boolean) =>
    flag !== undefined ? (isPath ? resolve(cwd, flag) : flag) : fromFile !== undefined ? (isPath ? resolvePath(fromFile, base) : fromFile) : isPath ? resolve(cwd, def) : def;

  const listen = parseHostPort(pick(values.listen, file.listen, '127.0.0.1:8080', false), '--listen');
  const adminRaw = values.admin ?? (file.admin === false ? 'off' : file.admin) ?? '127.0.0.1:8081';
  const admin = adminRaw === 'off' ? null : parseHostPort(adminRaw, '--admin');
  const level = values['log-level'] ?? file.log_level ?? process.env.WIRETRAIL_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new UsageError(`--log-level: unknown level "${level}"`);
  return {
    listen,
    admin,
    adminHosts: file.admin_hosts ?? [],
    dataDir: pick(values.data, file.data, 'data', true),
    certsDir: pick(values.certs, file.certs, 'certs', true),
    policyFile: pick(values.policy, file.policy, 'policies/default.yaml', true),
    upstreamCaFiles: [...(file.upstream_ca ?? []).map((f) => resolvePath(f, base)), ...(values['upstream-ca'] ?? []).map((f) => resolve(cwd, f))],
    connectTo: [...(file.connect_to ?? []), ...(values['connect-to'] ?? [])],
    logLevel: level,
    limits: {
      maxRequestBodyBytes: file.limits?.max_request_body_bytes ?? 32 * 1024 * 1024,
      handshakeTimeoutMs: file.limits?.handshake_timeout_ms ?? 10_000,
      headersTimeoutMs: file.limits?.headers_timeout_ms ?? 15_000,
      tunnelIdleTimeoutMs: file.limits?.tunnel_idle_timeout_ms ?? 15 * 60_000,
      upstreamIdleTimeoutMs: file.limits?.upstream_idle_timeout_ms ?? 10 * 60_000,
      ...(file.limits?.max_event_bytes ? { maxEventBytes: file.limits.max_event_bytes } : {}),
      ...(file.limits?.max_buffered_bytes ? { maxBufferedBytes: file.limits.max_buffered_bytes } : {}),
      ...(file.limits?.credential_recheck_ms !== undefined ? { credentialRecheckMs: file.limits.credential_recheck_ms } : {}),
    },
    audit: {
      retentionDays: file.audit?.retention_days,
      checkpointIntervalMs: file.audit?.checkpoint_interval_ms,
      checkpointEveryRecords: file.audit?.checkpoint_every_records,
      origin: file.audit?.origin,
      witness: file.audit?.witness ? { ...file.audit.witness, ...(file.audit.witness.file ? { file: resolvePath(file.audit.witness.file, base) } : {}) } : undefined,
    },
  };
}

export const command: Command = {
  summary: 'run the proxy (and its admin API)',
  async run(argv) {
    const config = buildConfig(argv);
    for (const f of config.upstreamCaFiles) {
      try {
        readFileSync(f);
      } catch {
        throw new CliError(`--upstream-ca: cannot read ${f}`);
      }
    }
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const running = await startWiretrail(config);
    const stop = async (signal: string) => {
      running.logger.info({ signal }, 'shutting down');
      await running.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    // Policy reload: validated first; a bad file is refused with one log line and the old policy stays.
    process.on('SIGHUP', () => void running.reloadPolicy('SIGHUP'));
    // Keep running until a signal arrives.
    await new Promise<never>(() => undefined);
    return 0;
  },
};
