// Maps JWT claims to attribution: subject, email, groups, and the CI claims users search by.
import type { JWTPayload } from 'jose';

/**
 * Attribute name -> claim path. GitHub Actions (repository, ref, sha, run_id, workflow, actor) and
 * GitLab CI (project_path, pipeline_id, sha, user_login) id-token claims; policy `oidc.claims` adds to
 * or overrides these.
 */
export const DEFAULT_CLAIM_MAP: Readonly<Record<string, string>> = Object.freeze({
  repository: 'repository',
  ref: 'ref',
  sha: 'sha',
  run_id: 'run_id',
  workflow: 'workflow',
  actor: 'actor',
  project_path: 'project_path',
  pipeline_id: 'pipeline_id',
  user_login: 'user_login',
});

/** Attribute values are capped so a hostile token cannot bloat every record and log line. */
const MAX_ATTRIBUTE_CHARS = 512;
const MAX_GROUPS = 256;

/**
 * Reads a claim by path. The whole path is tried as a literal claim name first (namespaced claims
 * such as `https://example.com/groups` contain dots), then as a dotted path (`realm_access.roles`).
 */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(payload, path)) return payload[path];
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.slice(0, MAX_ATTRIBUTE_CHARS);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',').slice(0, MAX_ATTRIBUTE_CHARS);
  return undefined;
}

/** Groups from a claim that is an array of strings, or a space/comma separated string. */
export function groupsFrom(value: unknown): string[] {
  let list: string[] = [];
  if (Array.isArray(value)) list = value.filter((g): g is string => typeof g === 'string');
  else if (typeof value === 'string') list = value.split(/[\s,]+/);
  return [...new Set(list.map((g) => g.trim()).filter((g) => g.length > 0 && g.length <= MAX_ATTRIBUTE_CHARS))].slice(0, MAX_GROUPS);
}

export interface ClaimMapping {
  groupsClaim: string;
  attributes: Record<string, string>;
}

export function mapClaims(payload: JWTPayload, mapping: ClaimMapping): { email?: string; groups: string[]; attributes: Record<string, string> } {
  const p = payload as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  for (const [name, path] of Object.entries(mapping.attributes)) {
    const v = scalar(claimAt(p, path));
    if (v !== undefined) attributes[name] = v;
  }
  const out: { email?: string; groups: string[]; attributes: Record<string, string> } = {
    groups: groupsFrom(claimAt(p, mapping.groupsClaim)),
    attributes,
  };
  if (typeof p.email === 'string' && p.email.length <= MAX_ATTRIBUTE_CHARS) out.email = p.email;
  return out;
}
