// `wiretrail config show`: every effective value, where it came from, secrets masked.
import { SETTINGS } from './settings.js';
import type { ResolvedValue } from './resolve.js';

/** Masks credentials carried in a URL (userinfo, query) and keeps the rest readable. */
function maskUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.username) u.username = '***';
    if (u.password) u.password = '***';
    if (u.search) u.search = '?***';
    return u.toString();
  } catch {
    return '***';
  }
}

function display(value: unknown, secret: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (secret && typeof value === 'string') return maskUrl(value);
  if (typeof value === 'object' && !Array.isArray(value) && 'host' in (value as object)) {
    const hp = value as { host: string; port: number };
    return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
  }
  return value;
}

export function formatConfig(values: Map<string, ResolvedValue>, file: string | null, json: boolean): string {
  const rows = SETTINGS.map((s) => {
    const v = values.get(s.key)!;
    return { key: s.key, value: display(v.value, s.secret === true), source: v.source, from: v.from };
  });
  if (json) return JSON.stringify({ file, settings: Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source, from: r.from }])) }, null, 2) + '\n';
  const text = (v: unknown) => (v === null ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v));
  const w = Math.max(...rows.map((r) => r.key.length));
  const vw = Math.min(60, Math.max(...rows.map((r) => text(r.value).length)));
  const lines = rows.map((r) => `${r.key.padEnd(w)}  ${text(r.value).padEnd(vw)}  ${r.source === 'default' ? 'default' : `${r.source} ${r.from}`}`);
  return `# config file: ${file ?? '(none)'}; precedence: flags > WIRETRAIL_* environment > config file > defaults\n` + lines.join('\n') + '\n';
}
