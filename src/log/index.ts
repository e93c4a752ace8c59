// pino logger factory. Log lines carry decisions and sizes, never header values or bodies; the redact
// list is a second line of defence for fields that must never appear.
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

const REDACT = [
  'authorization', '*.authorization', 'proxyAuthorization', '*.proxyAuthorization', 'token', '*.token',
  'headers.authorization', 'headers["proxy-authorization"]', 'headers["x-api-key"]', 'headers["api-key"]', 'headers.cookie',
  'password', '*.password', 'secret', '*.secret', 'apiKey', '*.apiKey',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'wiretrail',
      level: opts.level ?? process.env.WIRETRAIL_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT, censor: '[REDACTED]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything (library use and tests that do not inspect logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
