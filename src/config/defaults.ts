// Every default wiretrail uses, in one place (the CLI, the runtime and the proxy read them from here).
// Relative paths are resolved against the working folder only inside a wiretrail checkout; see paths.ts.

export const DEFAULT_LISTEN = '127.0.0.1:8080';
export const DEFAULT_ADMIN = '127.0.0.1:8081';
export const DEFAULT_DATA_DIR = 'data';
export const DEFAULT_CERTS_DIR = 'certs';
export const DEFAULT_POLICY_FILE = 'policies/default.yaml';
export const DEFAULT_LOG_LEVEL = 'info';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How long SIGTERM waits for in-flight exchanges and streams before ending them. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;

/** The proxy's limits; the runtime hands them to the proxy through its deps (the proxy keeps no defaults). */
export interface Limits {
  maxRequestBodyBytes: number;
  /** Request-body bytes held in memory across all exchanges at once (global budget; 503 + Retry-After beyond). */
  maxBufferedBytes: number;
  /** How often open connections' credentials are re-checked (revocation, expiry); 0 turns it off. */
  credentialRecheckMs: number;
  /** Cap on one SSE event / NDJSON line of a response (a bigger one ends the stream; stream default when absent). */
  maxEventBytes?: number;
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  upstreamIdleTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestBodyBytes: 32 * 1024 * 1024,
  // Two maximum-size bodies at once: a held body costs ~4× its size while it is decoded and masked as text
  // (bench/dos.ts measured +391 MiB RSS for three 31 MiB bodies), so 64 MiB keeps a flood near 300 MiB.
  maxBufferedBytes: 64 * 1024 * 1024,
  credentialRecheckMs: 2_000,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  tunnelIdleTimeoutMs: 15 * 60_000,
  upstreamIdleTimeoutMs: 10 * 60_000,
});
