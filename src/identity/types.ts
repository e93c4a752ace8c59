// Who is behind a proxy connection. Produced by the identity stage, carried on every record.
import type { JsonObject } from '../audit/types.js';

export interface Identity {
  /** How the caller was identified. */
  kind: 'anonymous' | 'oidc' | 'token' | 'source';
  /** How a non-credential identity was established: 'source-address' (policy identity.by_source). */
  via?: 'source-address';
  /** Stable subject: OIDC `sub`, or `token:<name>` for static tokens. */
  subject: string | null;
  email?: string;
  groups: string[];
  issuer?: string;
  /** Opaque wiretrail credential id (exchanged or static token), for revocation checks. */
  tokenId?: string;
  /** Attribution claims users search by (GitHub Actions / GitLab CI claims…), already mapped. */
  attributes: Record<string, string>;
  /** Unix ms when this identity stops being valid (token exp / credential TTL); null = no expiry. */
  expiresAt: number | null;
}

export type AuthOutcome =
  | { ok: true; identity: Identity }
  | {
      ok: false;
      reason: string;
      /** Set when repeated failures are throttled: answer 429 with this Retry-After instead of 407. */
      retryAfterSeconds?: number;
    };

/** Where an authentication attempt comes from (failure throttling per client address). */
export interface AuthContext {
  clientAddress?: string | null;
}

export interface Authenticator {
  /**
   * Authenticates a Proxy-Authorization header value (Basic with the token as password, or Bearer).
   * With no header: the identity.by_source entry matching the client address if any (every auth mode),
   * else the anonymous identity with `auth: optional` / `off`.
   */
  authenticate(proxyAuthorization: string | undefined, context?: AuthContext): Promise<AuthOutcome>;
  /** Re-checks an identity before each request on an open connection (expiry, revocation). */
  recheck(identity: Identity): Promise<AuthOutcome>;
}

export const ANONYMOUS: Identity = Object.freeze({
  kind: 'anonymous',
  subject: null,
  groups: [],
  attributes: {},
  expiresAt: null,
}) as Identity;

/** The identity as it goes into a record's meta. */
export function identityMeta(id: Identity): JsonObject {
  const m: JsonObject = { kind: id.kind, subject: id.subject, groups: [...id.groups], attributes: { ...id.attributes } };
  if (id.email) m.email = id.email;
  if (id.issuer) m.issuer = id.issuer;
  if (id.tokenId) m.tokenId = id.tokenId;
  if (id.via) m.via = id.via;
  return m;
}
