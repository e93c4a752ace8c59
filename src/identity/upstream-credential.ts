// Upstream API keys injected by the proxy. Policy values are templates: `${env:NAME}` and
// `${file:/abs/path}` references around short literal text (`Bearer ${env:OPENAI_API_KEY}`), so keys
// live in the environment or secret files, never in the policy text.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { HostSettings, Policy } from '../policy/index.js';
import type { Identity } from './types.js';

/** Headers clients use to carry their own AI API key; removed wherever the proxy injects one. */
export const CLIENT_CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
]);

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  /** HTTP status the proxy answers with: 403 no credential for the caller, 502 credential unavailable. */
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

type Part = { lit: string } | { env: string } | { file: string };

const REF_RE = /\$\{(env|file):([^}]*)\}/g;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a template; throws an Error whose message never quotes literal text (it could be a key). */
export function parseTemplate(value: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of value.matchAll(REF_RE)) {
    if (m.index > last) parts.push({ lit: value.slice(last, m.index) });
    const [, kind, arg] = m as unknown as [string, 'env' | 'file', string];
    if (kind === 'env') {
      if (!ENV_NAME_RE.test(arg)) throw new Error(`\${env:${arg}}: not a valid environment variable name`);
      parts.push({ env: arg });
    } else {
      if (!isAbsolute(arg)) throw new Error(`\${file:${arg}}: the path must be absolute`);
      parts.push({ file: arg });
    }
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push({ lit: value.slice(last) });
  const lits = parts.filter((p): p is { lit: string } => 'lit' in p);
  if (lits.some((p) => p.lit.includes('${'))) throw new Error('unknown reference: only ${env:NAME} and ${file:/path} are supported');
  if (parts.length === lits.length) {
    throw new Error('the value must come from ${env:NAME} or ${file:/path}; literal keys in the policy are refused');
  }
  for (const p of lits) {
    if (/[\r\n\0]/.test(p.lit)) throw new Error('literal text must not contain line breaks');
    // A scheme word such as "Bearer " is fine; a long run of key-like characters is not.
    if (p.lit.split(/\s+/).some((w) => w.length >= 16)) {
      throw new Error('literal text looks like a key; put keys in ${env:NAME} or ${file:/path}');
    }
  }
  return parts;
}

/** Checks every `hosts.*.credentials` entry; throws an Error naming the key (never the value). */
export function validateCredentialTemplates(policy: Policy): void {
  for (const [pattern, settings] of Object.entries(policy.doc.hosts)) {
    for (const { key, value } of templatesOf(settings)) {
      try {
        parseTemplate(value);
      } catch (err) {
        throw new Error(`hosts.${pattern}.${key}: ${(err as Error).message}`);
      }
    }
  }
}

/** Every credential template of a host's settings, with its policy key (`credentials[0].value`…). */
function templatesOf(settings: HostSettings): Array<{ key: string; value: string }> {
  const out = (settings.credentials ?? []).map((c, i) => ({ key: `credentials[${i}].value`, value: c.value }));
  (settings.aws_sigv4 ?? []).forEach((a, i) => {
    out.push({ key: `aws_sigv4[${i}].access_key_id`, value: a.access_key_id }, { key: `aws_sigv4[${i}].secret_access_key`, value: a.secret_access_key });
    if (a.session_token !== undefined) out.push({ key: `aws_sigv4[${i}].session_token`, value: a.session_token });
  });
  return out;
}

const fileCache = new Map<string, { sig: string; value: string }>();

/** Reads a secret file, re-read when it changes (rotated Kubernetes / Docker secrets). */
function readSecretFile(path: string, host: string): string {
  let sig: string;
  try {
    const st = statSync(path);
    sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    throw new CredentialError(`upstream credential for ${host}: file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 502);
  }
  const hit = fileCache.get(path);
  if (hit && hit.sig === sig) return hit.value;
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CredentialError(`upstream credential for ${host}: file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 502);
  }
  if (!value) throw new CredentialError(`upstream credential for ${host}: file ${path} is empty`, 502);
  fileCache.set(path, { sig, value });
  return value;
}

/** Resolves a parsed template now (environment, secret files); throws CredentialError (502). */
export function resolveTemplate(parts: Part[], host: string): string {
  let out = '';
  for (const p of parts) {
    if ('lit' in p) out += p.lit;
    else if ('env' in p) {
      const v = process.env[p.env];
      if (v === undefined || v.trim() === '') throw new CredentialError(`upstream credential for ${host}: environment variable ${p.env} is not set`, 502);
      out += v.trim();
    } else out += readSecretFile(p.file, host);
  }
  if (/[\r\n\0]/.test(out)) throw new CredentialError(`upstream credential for ${host}: the resolved value contains a line break`, 502);
  return out;
}

/**
 * Headers to set on the upstream request and client headers to remove, for `host` and the caller.
 * Without `credentials` for the host, only `strip_headers` are removed (clients keep their own key).
 * With credentials, the first entry whose `groups` meet the caller's wins; when none does, a
 * CredentialError (403) is thrown rather than forwarding the client's own key.
 */
export function upstreamCredential(settings: HostSettings, identity: Identity, host: string): { set: Record<string, string>; strip: string[] } {
  const strip = new Set((settings.strip_headers ?? []).map((h) => h.toLowerCase()));
  const creds = settings.credentials ?? [];
  if (creds.length === 0) return { set: {}, strip: [...strip] };
  for (const h of CLIENT_CREDENTIAL_HEADERS) strip.add(h);
  const entry = creds.find((c) => !c.groups || c.groups.some((g) => identity.groups.includes(g)));
  if (!entry) {
    throw new CredentialError(`no upstream credential for ${host} is configured for your groups`, 403);
  }
  let parts: Part[];
  try {
    parts = parseTemplate(entry.value);
  } catch (err) {
    throw new CredentialError(`upstream credential for ${host}: ${(err as Error).message}`, 502);
  }
  const header = entry.header.toLowerCase();
  strip.add(header);
  return { set: { [header]: resolveTemplate(parts, host) }, strip: [...strip] };
}

/**
 * Every `${env:}` / `${file:}` source the policy's credentials name that cannot be resolved now, one
 * line each naming the policy key and the source (never a value). Checked at start and on reload, so a
 * missing key is a start error rather than a 502 on every request.
 */
export function credentialSourceProblems(policy: Policy): string[] {
  const problems: string[] = [];
  for (const [pattern, settings] of Object.entries(policy.doc.hosts)) {
    for (const { key, value } of templatesOf(settings)) {
      try {
        resolveTemplate(parseTemplate(value), pattern);
      } catch (err) {
        problems.push(`hosts.${pattern}.${key.replace(/\.value$/, '')}: ${(err as Error).message.replace(`upstream credential for ${pattern}: `, '')}`);
      }
    }
  }
  return problems;
}
