// Deployment configuration: defaults < config file (YAML) < command-line flags.
import { resolve, dirname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { loadYamlFile } from '../policy/index.js';

export const configSchema = z
  .object({
    listen: z.string().optional(),
    admin: z.union([z.string(), z.literal(false)]).optional(),
    /** Host names the admin API answers to besides loopback names and its bind address (DNS rebinding guard). */
    admin_hosts: z.array(z.string().min(1)).optional(),
    data: z.string().optional(),
    certs: z.string().optional(),
    policy: z.string().optional(),
    upstream_ca: z.array(z.string()).optional(),
    connect_to: z.array(z.string()).optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    limits: z
      .object({
        max_request_body_bytes: z.number().int().positive().optional(),
        handshake_timeout_ms: z.number().int().positive().optional(),
        headers_timeout_ms: z.number().int().positive().optional(),
        tunnel_idle_timeout_ms: z.number().int().positive().optional(),
        upstream_idle_timeout_ms: z.number().int().positive().optional(),
        /** Cap on one SSE event / NDJSON line of a response (a bigger one ends the stream). */
        max_event_bytes: z.number().int().positive().optional(),
        /** Request-body bytes held in memory by all exchanges together (503 + Retry-After beyond). */
        max_buffered_bytes: z.number().int().positive().optional(),
        /** How often open connections' credentials are re-checked (revocation, expiry); 0 = never. */
        credential_recheck_ms: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    audit: z
      .object({
        retention_days: z.number().int().positive().optional(),
        checkpoint_interval_ms: z.number().int().positive().optional(),
        checkpoint_every_records: z.number().int().positive().optional(),
        origin: z.string().optional(),
        witness: z.object({ file: z.string().optional(), url: z.string().url().optional() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;

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
  limits: {
    maxRequestBodyBytes: number;
    /** Global budget for request bodies held in memory (proxy default when absent). */
    maxBufferedBytes?: number;
    /** How often open connections' credentials are re-checked (proxy default when absent). */
    credentialRecheckMs?: number;
    handshakeTimeoutMs: number;
    headersTimeoutMs: number;
    tunnelIdleTimeoutMs: number;
    upstreamIdleTimeoutMs: number;
    maxEventBytes?: number;
  };
  audit: {
    retentionDays?: number;
    checkpointIntervalMs?: number;
    checkpointEveryRecords?: number;
    origin?: string;
    witness?: { file?: string; url?: string };
  };
}

/** Paths in a config file are relative to the file; paths on the command line to the cwd. */
export function loadConfigFile(file: string): { cfg: ConfigFile; base: string } {
  return { cfg: loadYamlFile(file, configSchema), base: dirname(resolve(file)) };
}

export function resolvePath(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}
