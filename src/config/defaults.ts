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

export interface Limits {
  maxRequestBodyBytes: number;
  /** Global budget for request bodies held in memory (proxy default when absent). */
  maxBufferedBytes?: number;
  /** How often open connections' credentials are re-checked (proxy default when absent). */
  credentialRecheckMs?: number;
  /** Cap on one SSE event / NDJSON line of a response (a bigger one ends the stream; stream default when absent). */
  maxEventBytes?: number;
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  upstreamIdleTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestBodyBytes: 32 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  tunnelIdleTimeoutMs: 15 * 60_000,
  upstreamIdleTimeoutMs: 10 * 60_000,
});
