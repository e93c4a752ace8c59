// The JSON form of a token listing entry, shared by the admin API and the CLI.
import type { TokenInfo } from './token-store.js';

export interface TokenJson {
  id: string;
  kind: 'static' | 'exchanged';
  name: string;
  status: 'active' | 'expired' | 'revoked';
  subject: string | null;
  email?: string;
  issuer?: string;
  groups: string[];
  attributes: Record<string, string>;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function tokenJson(t: TokenInfo): TokenJson {
  const out: TokenJson = {
    id: t.id,
    kind: t.kind,
    name: t.name,
    status: t.status,
    subject: t.identity.subject,
    groups: t.identity.groups,
    attributes: t.identity.attributes,
    createdAt: iso(t.createdAt)!,
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
  };
  if (t.identity.email) out.email = t.identity.email;
  if (t.identity.issuer) out.issuer = t.identity.issuer;
  return out;
}
