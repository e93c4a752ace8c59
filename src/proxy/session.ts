// Per-connection state: one audit session per client connection.
import { randomBytes } from 'node:crypto';
import type { Identity } from '../identity/types.js';
import type { Decision } from '../policy/index.js';
import type { MaskSession } from './deps.js';

export interface ConnContext {
  session: string;
  client: { address: string; port: number };
  /** The CONNECT authority (https) or, for plain HTTP, the first request's target. */
  target: { host: string; port: number };
  scheme: 'https' | 'http';
  decision: Decision;
  identity: Identity;
  mask: MaskSession;
  startedAt: number;
  requests: number;
  bytesFromClient: number;
  bytesToClient: number;
  /** Set once the session is closed so late events do not append to it. */
  ended: boolean;
  /** Exchanges still running on this connection. */
  inflight: Set<Promise<void>>;
  /** Last failure worth a field on the connection's log line. */
  error?: string;
  /** The refusal that ended (or last hit) this connection, for the canonical log line. */
  refusal?: { status: number; code: string; reason: string };
}

/** Time-sortable session id: 12 hex digits of milliseconds, then 64 random bits. */
export function newSessionId(now = Date.now()): string {
  return now.toString(16).padStart(12, '0') + randomBytes(8).toString('hex');
}
