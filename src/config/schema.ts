// The config file (YAML): the same settings as the flags and WIRETRAIL_* variables, snake_case.
import { z } from 'zod';
import { LOG_LEVELS } from './defaults.js';

const positiveInt = z.number().int().positive();

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
    log_level: z.enum(LOG_LEVELS).optional(),
    shutdown_grace_seconds: z.number().nonnegative().max(3600).optional(),
    allow_missing_credentials: z.boolean().optional(),
    limits: z
      .object({
        max_request_body_bytes: positiveInt.optional(),
        handshake_timeout_ms: positiveInt.optional(),
        headers_timeout_ms: positiveInt.optional(),
        tunnel_idle_timeout_ms: positiveInt.optional(),
        upstream_idle_timeout_ms: positiveInt.optional(),
        /** Cap on one SSE event / NDJSON line of a response (a bigger one ends the stream). */
        max_event_bytes: positiveInt.optional(),
        /** Global budget for request bodies held in memory at once. */
        max_buffered_bytes: positiveInt.optional(),
        /** How often open connections' credentials are re-checked (0: never). */
        credential_recheck_ms: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    audit: z
      .object({
        retention_days: positiveInt.optional(),
        checkpoint_interval_ms: positiveInt.optional(),
        checkpoint_every_records: positiveInt.optional(),
        /** Recorded bytes waiting for LevelDB above which new intercepted work gets 503 (memory bound). */
        max_ingest_lag_bytes: positiveInt.optional(),
        origin: z.string().optional(),
        witness: z.object({ file: z.string().optional(), url: z.string().url().optional() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
