// Command-line parsing on node:util parseArgs, with usage errors that map to exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on: printed as one line on stderr, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return r;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: ${usage}`);
  }
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT); throws UsageError. */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`${flag}: expected HOST:PORT, got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}
