// What a client needs to go through wiretrail: proxy variables and CA trust, for sh, fish or PowerShell.
// Shared by `wiretrail env` and the start banner so both print the same lines.
import { existsSync, readFileSync, renameSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { dirname, join, basename } from 'node:path';

export type Shell = 'sh' | 'fish' | 'powershell';
export const SHELLS: readonly Shell[] = ['sh', 'fish', 'powershell'];
export const DEFAULT_PROXY_URL = 'http://127.0.0.1:8080';
export const DEFAULT_NO_PROXY = ['localhost', '127.0.0.1', '::1'];
export const BUNDLE_FILE = 'bundle.pem';
/** Debian/Ubuntu's system trust store as one PEM file; elsewhere Node's bundled Mozilla roots are used. */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface ClientEnvOptions {
  proxyUrl: string;
  /** Our CA alone, for NODE_EXTRA_CA_CERTS (Node adds it to its own roots). */
  caCertPath: string;
  /** System roots plus our CA, for clients that replace their roots with the file they are given. */
  bundlePath: string;
  noProxy: readonly string[];
}

export function clientEnv(o: ClientEnvOptions): Array<[name: string, value: string]> {
  const noProxy = o.noProxy.join(',');
  return [
    ['HTTPS_PROXY', o.proxyUrl],
    ['https_proxy', o.proxyUrl],
    ['NO_PROXY', noProxy],
    ['no_proxy', noProxy],
    ['NODE_EXTRA_CA_CERTS', o.caCertPath],
    ['SSL_CERT_FILE', o.bundlePath],
    ['REQUESTS_CA_BUNDLE', o.bundlePath],
    ['CURL_CA_BUNDLE', o.bundlePath],
    ['GIT_SSL_CAINFO', o.bundlePath],
    ['NODE_USE_ENV_PROXY', '1'],
  ];
}

const quote: Record<Shell, (v: string) => string> = {
  sh: (v) => `'${v.replace(/'/g, `'\\''`)}'`,
  fish: (v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  powershell: (v) => `'${v.replace(/'/g, "''")}'`,
};

export function formatEnv(vars: ReadonlyArray<readonly [string, string]>, shell: Shell): string {
  const q = quote[shell];
  const line = (n: string, v: string) =>
    shell === 'sh' ? `export ${n}=${q(v)}` : shell === 'fish' ? `set -gx ${n} ${q(v)}` : `$env:${n} = ${q(v)}`;
  return vars.map(([n, v]) => line(n, v)).join('\n') + '\n';
}

/** The proxy URL as clients expect it: http(s)://host:port with no path, credentials kept as given. */
export function checkProxyUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`not a URL: "${raw}" (expected e.g. ${DEFAULT_PROXY_URL})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`proxy URL must be http:// or https://, got "${u.protocol}"`);
  if (!u.hostname) throw new Error(`proxy URL has no host: "${raw}"`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new Error(`proxy URL must not have a path, query or fragment: "${raw}"`);
  return `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.host}`;
}

/** Splits a comma list, trims, drops empty entries; refuses characters no host pattern contains. */
export function parseNoProxy(raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !/^[A-Za-z0-9.*:_\-[\]/%]+$/.test(s));
  if (bad !== undefined) throw new Error(`--no-proxy: invalid entry "${bad}"`);
  return items;
}

export function systemRootsPem(): { pem: string; source: string } {
  if (existsSync(SYSTEM_BUNDLE)) {
    try {
      const pem = readFileSync(SYSTEM_BUNDLE, 'utf8');
      if (pem.includes('-----BEGIN CERTIFICATE-----')) return { pem, source: SYSTEM_BUNDLE };
    } catch {
      /* unreadable: fall back to Node's roots */
    }
  }
  return { pem: rootCertificates.join('\n') + '\n', source: 'node:tls rootCertificates' };
}

/** Writes system roots + our CA to `bundlePath` (0644) atomically; returns where the roots came from. */
export function writeTrustBundle(bundlePath: string, caCertPem: string, caLabel: string): { source: string } {
  const roots = systemRootsPem();
  const body = `${roots.pem.trimEnd()}\n\n# ${caLabel.replace(/[\r\n]/g, ' ')} (added by wiretrail env)\n${caCertPem.trimEnd()}\n`;
  mkdirSync(dirname(bundlePath), { recursive: true });
  const tmp = join(dirname(bundlePath), `.${basename(bundlePath)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(tmp, body, { mode: 0o644 });
  chmodSync(tmp, 0o644);
  renameSync(tmp, bundlePath);
  return { source: roots.source };
}
