// Per-client environment recipes for `wiretrail env --client X`: exactly the lines one client needs, each with
// a one-line note; and the Node.js < 22.21 preload (those versions ignore NODE_USE_ENV_PROXY).
// Each recipe was checked against the real client (test/agents runs the four coding agents with it).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClientEnvOptions, Shell } from './client-env.js';

export const CLIENTS = ['claude', 'codex', 'gemini', 'copilot', 'node', 'python', 'curl', 'git', 'go', 'java'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface EnvLine {
  name: string;
  value: string;
  /** Why the client needs this line (printed as a comment above it). */
  note: string;
}

export interface RecipeOptions extends ClientEnvOptions {
  /** The Node.js version the Node-based clients run on (default: the one running wiretrail). */
  nodeVersion: string;
  /** Absolute path of preload/node-env-proxy.mjs. */
  preloadPath: string;
}

const PRELOAD_FILE = join('preload', 'node-env-proxy.mjs');

/** The preload shipped beside this package (found by walking up from this module: src/ or dist/src/). */
export function preloadPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, PRELOAD_FILE))) return join(dir, PRELOAD_FILE);
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${PRELOAD_FILE} beside the wiretrail installation`);
}

/** NODE_USE_ENV_PROXY exists from Node 22.21 and 24.0; older Node ignores it without a word. */
export function nodeProxyPreload(nodeVersion: string): { needed: boolean; why: string } {
  const m = /^v?(\d+)\.(\d+)/.exec(nodeVersion);
  if (!m) return { needed: true, why: `unknown Node version "${nodeVersion}": the preload is harmless on newer Node` };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 24 || (major === 22 && minor >= 21)) return { needed: false, why: `Node ${nodeVersion} honours NODE_USE_ENV_PROXY` };
  return { needed: true, why: `Node ${nodeVersion} ignores NODE_USE_ENV_PROXY (needs 22.21+ or 24+): the preload makes fetch honour HTTPS_PROXY` };
}

/** NODE_OPTIONS value; a file: URL so a path with spaces survives NODE_OPTIONS' own splitting. */
export function preloadOption(path: string): string {
  return `--import=${pathToFileURL(path).href}`;
}

function proxyParts(proxyUrl: string): { host: string; port: string } {
  const u = new URL(proxyUrl);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || (u.protocol === 'https:' ? '443' : '80') };
}

function nodeLines(o: RecipeOptions, who: string): EnvLine[] {
  const pre = nodeProxyPreload(o.nodeVersion);
  const lines: EnvLine[] = [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: `${who} sends HTTPS through wiretrail` },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'NODE_EXTRA_CA_CERTS', value: o.caCertPath, note: 'Node adds the wiretrail CA to its roots' },
  ];
  if (pre.needed) lines.push({ name: 'NODE_OPTIONS', value: preloadOption(o.preloadPath), note: pre.why });
  else lines.push({ name: 'NODE_USE_ENV_PROXY', value: '1', note: pre.why });
  return lines;
}

const RECIPES: Record<ClientName, (o: RecipeOptions) => EnvLine[]> = {
  // A native (Bun) binary: proxies by HTTPS_PROXY itself and reads NODE_EXTRA_CA_CERTS for extra roots.
  claude: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: 'Claude Code proxies its API calls by HTTPS_PROXY' },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'NODE_EXTRA_CA_CERTS', value: o.caCertPath, note: 'Claude Code adds this CA to its roots' },
  ],
  // Rust (reqwest + rustls): HTTPS_PROXY; CODEX_CA_CERTIFICATE (before SSL_CERT_FILE) replaces the roots: the bundle.
  codex: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: 'Codex proxies HTTPS and its WebSocket transport by HTTPS_PROXY' },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'CODEX_CA_CERTIFICATE', value: o.bundlePath, note: 'Codex trusts this PEM bundle (system roots + wiretrail CA) instead of the system roots' },
  ],
  // Node: installs its own undici ProxyAgent from HTTPS_PROXY, so no preload is needed on any Node version.
  gemini: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: 'Gemini CLI sets its own proxy dispatcher from HTTPS_PROXY' },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'NODE_EXTRA_CA_CERTS', value: o.caCertPath, note: 'Node adds the wiretrail CA to its roots' },
  ],
  copilot: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: 'Copilot CLI proxies by HTTPS_PROXY' },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'NODE_EXTRA_CA_CERTS', value: o.caCertPath, note: 'Copilot CLI (Node) adds the wiretrail CA to its roots' },
  ],
  node: (o) => nodeLines(o, 'Node (fetch and fetch-based SDKs)'),
  python: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: 'requests, httpx and the SDKs built on them proxy by HTTPS_PROXY' },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'REQUESTS_CA_BUNDLE', value: o.bundlePath, note: 'requests replaces its roots (certifi) with this bundle' },
    { name: 'SSL_CERT_FILE', value: o.bundlePath, note: 'httpx and the ssl module replace their roots with this bundle' },
  ],
  curl: (o) => [
    { name: 'https_proxy', value: o.proxyUrl, note: 'curl reads the proxy from https_proxy' },
    { name: 'no_proxy', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'CURL_CA_BUNDLE', value: o.bundlePath, note: 'curl replaces its roots with this bundle' },
  ],
  git: (o) => [
    { name: 'https_proxy', value: o.proxyUrl, note: 'git (libcurl) reads the proxy from https_proxy' },
    { name: 'no_proxy', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'GIT_SSL_CAINFO', value: o.bundlePath, note: 'git replaces its roots with this bundle' },
  ],
  go: (o) => [
    { name: 'HTTPS_PROXY', value: o.proxyUrl, note: "Go's net/http proxies by HTTPS_PROXY" },
    { name: 'NO_PROXY', value: o.noProxy.join(','), note: 'local addresses stay direct' },
    { name: 'SSL_CERT_FILE', value: o.bundlePath, note: 'Go on Linux replaces the system roots with this bundle' },
  ],
  java: (o) => {
    const { host, port } = proxyParts(o.proxyUrl);
    const nonProxy = o.noProxy.map((h) => (h.startsWith('.') ? `*${h}` : h)).join('|');
    return [
      {
        name: 'JAVA_TOOL_OPTIONS',
        value: `-Dhttps.proxyHost=${host} -Dhttps.proxyPort=${port} -Dhttp.nonProxyHosts=${nonProxy} -Djava.net.useSystemProxies=false`,
        note: 'the JVM ignores HTTPS_PROXY; trust: keytool -importcert -cacerts of `wiretrail ca export --format der` (README)',
      },
    ];
  },
};

export function clientRecipe(client: ClientName, o: RecipeOptions): EnvLine[] {
  return RECIPES[client](o);
}

export function formatEnvLines(lines: readonly EnvLine[], shell: Shell, format: (vars: ReadonlyArray<readonly [string, string]>, shell: Shell) => string): string {
  return lines.map((l) => `# ${l.note.replace(/[\r\n]/g, ' ')}\n${format([[l.name, l.value]], shell)}`).join('');
}
