// The one configuration model: defaults (defaults.ts) < config file (schema.ts) < WIRETRAIL_* environment
// < flags, resolved once for every setting (resolve.ts) into a typed Config with each value's origin.
import { resolve, dirname } from 'node:path';
import { loadYamlFile } from '../policy/index.js';
import { configSchema, type ConfigFile } from './schema.js';
import { resolveSettings, type Flags, type ResolvedValue } from './resolve.js';
import type { Limits } from './defaults.js';

export { configSchema, type ConfigFile } from './schema.js';
export { SETTINGS, envName, type Setting } from './settings.js';
export { parseHostPort, SettingError, type ResolvedValue, type Source, type Flags } from './resolve.js';
export * from './defaults.js';
export { isCheckout, checkDefaultDirs } from './paths.js';
export { formatConfig } from './show.js';

export interface Config {
  listen: { host: string; port: number };
  admin: { host: string; port: number } | null;
  /** Extra Host names the admin API accepts (config `admin_hosts`). */
  adminHosts?: string[];
  dataDir: string;
  certsDir: string;
  policyFile: string;
  upstreamCaFiles: string[];
  connectTo: string[];
  logLevel: string;
  limits: Limits;
  audit: {
    retentionDays?: number;
    checkpointIntervalMs?: number;
    checkpointEveryRecords?: number;
    maxIngestLagBytes?: number;
    origin?: string;
    witness?: { file?: string; url?: string };
  };
  /** SIGTERM grace period (default DEFAULT_SHUTDOWN_GRACE_SECONDS). */
  shutdownGraceSeconds?: number;
  /** Start with unresolvable `${env:}` / `${file:}` credential sources (warn instead of refusing). */
  allowMissingCredentials?: boolean;
}

export interface Effective {
  config: Config;
  /** Each setting's value and where it came from, keyed by config-file key. */
  values: Map<string, ResolvedValue>;
  /** The config file read, if any. */
  file: string | null;
}

/** Paths in a config file are relative to the file; paths on the command line to the cwd. */
export function loadConfigFile(file: string): { cfg: ConfigFile; base: string } {
  return { cfg: loadYamlFile(file, configSchema), base: dirname(resolve(file)) };
}

export function resolvePath(p: string, base: string): string {
  return resolve(base, p);
}

/** The effective configuration for these flags: `--config FILE` (or WIRETRAIL_CONFIG) names the file. */
export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Effective {
  const configArg = typeof flags.config === 'string' ? flags.config : env.WIRETRAIL_CONFIG || undefined;
  let file: { cfg: ConfigFile; path: string; base: string } | null = null;
  if (configArg) {
    const path = resolve(cwd, configArg);
    file = { ...loadConfigFile(path), path };
  }
  const values = resolveSettings({ flags, env, cwd, file });
  return { config: toConfig(values), values, file: file?.path ?? null };
}

function toConfig(v: Map<string, ResolvedValue>): Config {
  const get = <T>(key: string): T => v.get(key)!.value as T;
  const opt = <T>(key: string): T | undefined => (get<T | null>(key) ?? undefined) as T | undefined;
  const witnessFile = opt<string>('audit.witness.file');
  const witnessUrl = opt<string>('audit.witness.url');
  return {
    listen: get('listen'),
    admin: get('admin'),
    adminHosts: get('admin_hosts'),
    dataDir: get('data'),
    certsDir: get('certs'),
    policyFile: get('policy'),
    upstreamCaFiles: get('upstream_ca'),
    connectTo: get('connect_to'),
    logLevel: get('log_level'),
    limits: {
      maxRequestBodyBytes: get('limits.max_request_body_bytes'),
      handshakeTimeoutMs: get('limits.handshake_timeout_ms'),
      headersTimeoutMs: get('limits.headers_timeout_ms'),
      tunnelIdleTimeoutMs: get('limits.tunnel_idle_timeout_ms'),
      upstreamIdleTimeoutMs: get('limits.upstream_idle_timeout_ms'),
      ...(opt<number>('limits.max_event_bytes') ? { maxEventBytes: opt<number>('limits.max_event_bytes') } : {}),
      maxBufferedBytes: get('limits.max_buffered_bytes'),
      credentialRecheckMs: get('limits.credential_recheck_ms'),
    },
    audit: {
      retentionDays: opt('audit.retention_days'),
      checkpointIntervalMs: opt('audit.checkpoint_interval_ms'),
      checkpointEveryRecords: opt('audit.checkpoint_every_records'),
      maxIngestLagBytes: opt('audit.max_ingest_lag_bytes'),
      origin: opt('audit.origin'),
      witness: witnessFile || witnessUrl ? { ...(witnessFile ? { file: witnessFile } : {}), ...(witnessUrl ? { url: witnessUrl } : {}) } : undefined,
    },
    shutdownGraceSeconds: get('shutdown_grace_seconds'),
    allowMissingCredentials: get('allow_missing_credentials'),
  };
}
