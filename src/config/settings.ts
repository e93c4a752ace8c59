// The table of settings: each has a config-file key, a WIRETRAIL_* variable, maybe a flag, a kind and a
// default. resolve.ts walks this table, so precedence and provenance are written once for all of them.
import {
  DEFAULT_ADMIN,
  DEFAULT_CERTS_DIR,
  DEFAULT_DATA_DIR,
  DEFAULT_LIMITS,
  DEFAULT_LISTEN,
  DEFAULT_LOG_LEVEL,
  DEFAULT_POLICY_FILE,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
} from './defaults.js';

export type Kind = 'string' | 'path' | 'paths' | 'list' | 'int' | 'uint' | 'seconds' | 'bool' | 'hostport' | 'admin' | 'level' | 'url';

export interface Setting {
  /** Dotted key in the config file, e.g. `limits.max_request_body_bytes`. */
  key: string;
  /** The `wiretrail start` flag, when there is one. */
  flag?: string;
  kind: Kind;
  default?: string | number | boolean | string[] | null;
  /** Shown masked by `config show` (credentials inside URLs). */
  secret?: boolean;
}

/** `limits.max_request_body_bytes` → `WIRETRAIL_LIMITS_MAX_REQUEST_BODY_BYTES`. */
export function envName(key: string): string {
  return 'WIRETRAIL_' + key.replace(/\./g, '_').toUpperCase();
}

export const SETTINGS: readonly Setting[] = [
  { key: 'listen', flag: 'listen', kind: 'hostport', default: DEFAULT_LISTEN },
  { key: 'admin', flag: 'admin', kind: 'admin', default: DEFAULT_ADMIN },
  /** Host names the admin API answers to besides loopback names and its bind address (DNS rebinding guard). */
  { key: 'admin_hosts', kind: 'list', default: [] },
  { key: 'data', flag: 'data', kind: 'path', default: DEFAULT_DATA_DIR },
  { key: 'certs', flag: 'certs', kind: 'path', default: DEFAULT_CERTS_DIR },
  { key: 'policy', flag: 'policy', kind: 'path', default: DEFAULT_POLICY_FILE },
  { key: 'upstream_ca', flag: 'upstream-ca', kind: 'paths', default: [] },
  { key: 'connect_to', flag: 'connect-to', kind: 'list', default: [] },
  { key: 'log_level', flag: 'log-level', kind: 'level', default: DEFAULT_LOG_LEVEL },
  { key: 'shutdown_grace_seconds', flag: 'shutdown-grace-seconds', kind: 'seconds', default: DEFAULT_SHUTDOWN_GRACE_SECONDS },
  { key: 'allow_missing_credentials', flag: 'allow-missing-credentials', kind: 'bool', default: false },
  { key: 'limits.max_request_body_bytes', kind: 'int', default: DEFAULT_LIMITS.maxRequestBodyBytes },
  { key: 'limits.handshake_timeout_ms', kind: 'int', default: DEFAULT_LIMITS.handshakeTimeoutMs },
  { key: 'limits.headers_timeout_ms', kind: 'int', default: DEFAULT_LIMITS.headersTimeoutMs },
  { key: 'limits.tunnel_idle_timeout_ms', kind: 'int', default: DEFAULT_LIMITS.tunnelIdleTimeoutMs },
  { key: 'limits.upstream_idle_timeout_ms', kind: 'int', default: DEFAULT_LIMITS.upstreamIdleTimeoutMs },
  { key: 'limits.max_event_bytes', kind: 'int', default: null },
  { key: 'limits.max_buffered_bytes', kind: 'int', default: DEFAULT_LIMITS.maxBufferedBytes },
  { key: 'limits.credential_recheck_ms', kind: 'uint', default: DEFAULT_LIMITS.credentialRecheckMs },
  { key: 'audit.retention_days', kind: 'int', default: null },
  { key: 'audit.checkpoint_interval_ms', kind: 'int', default: null },
  { key: 'audit.checkpoint_every_records', kind: 'int', default: null },
  { key: 'audit.max_ingest_lag_bytes', kind: 'int', default: null },
  { key: 'audit.origin', kind: 'string', default: null },
  { key: 'audit.witness.file', kind: 'path', default: null },
  { key: 'audit.witness.url', kind: 'url', default: null, secret: true },
];
