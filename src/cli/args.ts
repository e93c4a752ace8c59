// Command-line parsing on node:util parseArgs, with usage errors that map to exit code 2. The shared flags
// (--config, --data, --certs, --admin) are declared here once; every command accepts --config and resolves
// its folders through the one configuration model (src/config), so flags > WIRETRAIL_* > file > defaults.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, SettingError, parseHostPort as parseHostPortSetting, type Effective, type Flags } from '../config/index.js';
import { ConfigError } from '../policy/index.js';

import { UsageError, CliError } from './errors.js';

export { UsageError, CliError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The folder flags commands that read the store or the certs share. */
export const DIR_OPTIONS = { data: { type: 'string' }, certs: { type: 'string' } } as const satisfies Options;
/** `--admin URL` for commands that can talk to a running proxy instead of reading folders. */
export const ADMIN_OPTION = { admin: { type: 'string' } } as const satisfies Options;

export function parse<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: ${usage}`);
  }
}

/**
 * The effective configuration for a command's parsed flags (a bad flag value is a usage error). For
 * `start` and `config show` (`server`), --admin is the admin listen address; for the client commands it
 * is the URL of a running proxy's admin API and not a setting.
 */
export function settings(values: Flags, role: 'server' | 'client' = 'client'): Effective {
  const flags = role === 'server' ? values : { ...values, admin: undefined };
  try {
    return loadConfig(flags);
  } catch (err) {
    if (err instanceof SettingError) throw err.flag ? new UsageError(err.message) : new CliError(err.message);
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT); throws UsageError. */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  try {
    return parseHostPortSetting(value, flag, true);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--admin` takes a URL; a bare HOST:PORT (as in the config file) means http://HOST:PORT. */
export function adminUrl(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}
