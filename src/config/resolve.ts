// Precedence, once for every setting: flags > WIRETRAIL_* environment > config file > defaults. Each value
// keeps where it came from, for `wiretrail config show` and for error messages that name the source.
import { isAbsolute, resolve as resolvePathFrom } from 'node:path';
import { SETTINGS, envName, type Setting } from './settings.js';
import { LOG_LEVELS } from './defaults.js';
import type { ConfigFile } from './schema.js';

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface ResolvedValue {
  value: unknown;
  source: Source;
  /** `--listen`, `WIRETRAIL_LISTEN`, the config file path, or `default`. */
  from: string;
}

/** A bad setting value; `flag` is set when a command-line flag carried it (a usage error, exit 2). */
export class SettingError extends Error {
  override readonly name = 'SettingError';
  constructor(
    message: string,
    readonly flag: boolean,
  ) {
    super(message);
  }
}

export type Flags = Record<string, string | string[] | boolean | undefined>;

export interface ResolveInput {
  flags: Flags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  file: { cfg: ConfigFile; path: string; base: string } | null;
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT). */
export function parseHostPort(value: string, what: string, flag = false): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new SettingError(`${what}: expected HOST:PORT, got "${value}"`, flag);
  return { host: (m[1] ?? m[2])!, port };
}

function fileValue(cfg: ConfigFile, key: string): unknown {
  let v: unknown = cfg;
  for (const part of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const absolute = (p: string, base: string) => (isAbsolute(p) ? p : resolvePathFrom(base, p));

/** Turns a raw flag / env string or a typed file value into the setting's value. */
function convert(s: Setting, raw: unknown, what: string, base: string, flag: boolean): unknown {
  const fail = (expected: string): never => {
    throw new SettingError(`${what}: expected ${expected}, got ${JSON.stringify(raw)}`, flag);
  };
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (s.kind) {
    case 'string':
    case 'url':
      return typeof text === 'string' ? text : fail('a string');
    case 'path':
      return typeof text === 'string' && text ? absolute(text, base) : fail('a path');
    case 'paths':
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((x) => x.trim()).filter(Boolean) : fail('a list');
      return s.kind === 'paths' ? items.map((p: string) => absolute(p, base)) : items;
    }
    case 'int':
      if (typeof text === 'number' && Number.isSafeInteger(text) && text > 0) return text;
      return typeof text === 'string' && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : fail('a positive integer');
    case 'uint':
      if (typeof text === 'number' && Number.isSafeInteger(text) && text >= 0) return text;
      return typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : fail('an integer ≥ 0');
    case 'seconds': {
      const n = typeof text === 'number' ? text : typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
      return n >= 0 && n <= 3600 ? n : fail('seconds between 0 and 3600');
    }
    case 'bool':
      if (typeof text === 'boolean') return text;
      if (typeof text === 'string' && /^(1|true|yes|on)$/i.test(text)) return true;
      if (typeof text === 'string' && /^(0|false|no|off)$/i.test(text)) return false;
      return fail('true or false');
    case 'hostport':
      return typeof text === 'string' ? parseHostPort(text, what, flag) : fail('HOST:PORT');
    case 'admin':
      if (text === false || text === 'off') return null;
      return typeof text === 'string' ? parseHostPort(text, what, flag) : fail('HOST:PORT or off');
    case 'level':
      return typeof text === 'string' && (LOG_LEVELS as readonly string[]).includes(text) ? text : fail(`one of ${LOG_LEVELS.join(', ')}`);
  }
}

function resolveOne(s: Setting, input: ResolveInput): ResolvedValue {
  const flagRaw = s.flag ? input.flags[s.flag] : undefined;
  if (flagRaw !== undefined && !(Array.isArray(flagRaw) && flagRaw.length === 0)) {
    return { value: convert(s, flagRaw, `--${s.flag}`, input.cwd, true), source: 'flag', from: `--${s.flag}` };
  }
  const env = envName(s.key);
  const envRaw = input.env[env];
  if (envRaw !== undefined && envRaw !== '') return { value: convert(s, envRaw, env, input.cwd, false), source: 'env', from: env };
  const fromFile = input.file ? fileValue(input.file.cfg, s.key) : undefined;
  if (fromFile !== undefined) {
    return { value: convert(s, fromFile, `${input.file!.path}: ${s.key}`, input.file!.base, false), source: 'file', from: input.file!.path };
  }
  const def = s.default ?? null;
  const value = def === null ? null : s.kind === 'path' || s.kind === 'paths' || s.kind === 'hostport' || s.kind === 'admin' ? convert(s, def, 'default', input.cwd, false) : def;
  return { value, source: 'default', from: 'default' };
}

/** Every setting's value and origin, keyed by the config-file key. */
export function resolveSettings(input: ResolveInput): Map<string, ResolvedValue> {
  return new Map(SETTINGS.map((s) => [s.key, resolveOne(s, input)]));
}
