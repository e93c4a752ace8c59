// Per-issuer required claims (`oidc.issuers[].required_claims`): every listed claim must be present
// and match one of its allowed values, exactly or by glob (`*` any characters, `/` included; `?` one).
// A claim that is an array matches when one of its elements does. Checked in OidcVerifier.verify, so
// the proxy path (Proxy-Authorization) and token exchange (POST /v1/token) refuse alike.
import type { JWTPayload } from 'jose';
import { claimAt } from './claims.js';

export type RequiredClaims = Record<string, string | string[]>;

interface CompiledCondition {
  claim: string;
  patterns: RegExp[];
}

export const hasWildcard = (pattern: string): boolean => /[*?]/.test(pattern);

function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '[\\s\\S]*';
    else if (ch === '?') src += '[\\s\\S]';
    else src += ch.replace(/[\\^$.+()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'u');
}

export function allowedValues(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

/** Compiles the conditions of one issuer; throws on an empty claim name or value list. */
export function compileConditions(required: RequiredClaims | undefined): CompiledCondition[] {
  return Object.entries(required ?? {}).map(([claim, values]) => {
    const list = allowedValues(values);
    if (!claim) throw new Error('required_claims: empty claim name');
    if (!list.length || list.some((p) => p.length === 0)) throw new Error(`required_claims.${claim}: give one or more non-empty values`);
    return { claim, patterns: list.map(globToRegExp) };
  });
}

/** The claim names conditions look at (what an exchanged credential keeps to be re-checked later). */
export const conditionClaims = (conditions: CompiledCondition[]): string[] => conditions.map((c) => c.claim);

/** A claim's values as strings (at most 64, each at most 512 characters), for keeping beside a credential. */
export function claimValues(payload: Record<string, unknown>, path: string): string[] {
  return claimStrings(claimAt(payload, path)).slice(0, 64).map((v) => v.slice(0, 512));
}

function claimStrings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' && Number.isFinite(v)) return [String(v)];
  if (typeof v === 'boolean') return [String(v)];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The first condition the token does not meet (its claim name), or null when all are met. */
export function unmetCondition(payload: JWTPayload | Record<string, unknown>, conditions: CompiledCondition[]): string | null {
  for (const c of conditions) {
    const values = claimStrings(claimAt(payload as Record<string, unknown>, c.claim));
    if (!values.some((v) => c.patterns.some((p) => p.test(v)))) return c.claim;
  }
  return null;
}
