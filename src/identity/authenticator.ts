// The identity service: authenticates proxy callers (OIDC JWTs and wiretrail credentials), re-checks
// them before every request, and exchanges / issues / revokes wiretrail credentials.
import { SourceIdentities } from './by-source.js';
import type { Logger } from 'pino';
import type { Policy } from '../policy/index.js';
import { OidcVerifier, type OidcTuning } from './oidc.js';
import { parseProxyAuthorization } from './proxy-authorization.js';
import { TokenStore, isCredential, type StoredIdentity, type TokenInfo, type TokenRecord } from './token-store.js';
import { ANONYMOUS, type AuthContext, type AuthOutcome, type Authenticator, type Identity } from './types.js';
import { addressKey, type ThrottleOptions } from './auth-throttle.js';
import { AuthFailures } from './auth-failures.js';
import { validateCredentialTemplates } from './upstream-credential.js';
import { exchangedCredentialName } from './credential-name.js';

export interface IdentityServiceOptions {
  policy: Policy;
  dataDir: string;
  logger?: Logger;
  /** Test and tuning knobs for remote JWKS (cooldown before refetch on an unknown kid, timeouts). */
  oidc?: OidcTuning;
  /** Failed-authentication throttling (per client address and per credential); defaults in auth-throttle.ts. */
  throttle?: ThrottleOptions;
}

export class ExchangeError extends Error {
  override readonly name: string = 'ExchangeError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** Too many failed attempts from this address or against this credential: 429 with Retry-After. */
export class ThrottledError extends ExchangeError {
  override readonly name = 'ThrottledError';
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed authentication attempts', 429);
  }
}

type Checked = { ok: true; identity: Identity } | { ok: false; reason: string; credentialId?: string };

function identityFromRecord(r: TokenRecord): Identity {
  const id: Identity = {
    kind: 'token',
    subject: r.identity.subject,
    groups: [...r.identity.groups],
    attributes: { ...r.identity.attributes },
    tokenId: r.id,
    expiresAt: r.expiresAt,
  };
  if (r.identity.email) id.email = r.identity.email;
  if (r.identity.issuer) id.issuer = r.identity.issuer;
  return id;
}

export class IdentityService implements Authenticator {
  readonly mode: 'off' | 'optional' | 'required';
  private readonly bySource: SourceIdentities;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;

  private readonly throttle: AuthFailures;

  private constructor(
    private readonly oidc: OidcVerifier,
    readonly store: TokenStore,
    policy: Policy,
    private readonly log: Logger | undefined,
    throttle: ThrottleOptions | undefined,
  ) {
    this.throttle = new AuthFailures(throttle, log, 'proxy credential');
    this.mode = policy.doc.auth;
    this.bySource = new SourceIdentities(policy.doc.identity?.by_source ?? []);
    this.defaultTtlSeconds = policy.doc.tokens?.default_ttl_seconds ?? 3600;
    this.maxTtlSeconds = policy.doc.tokens?.max_ttl_seconds ?? 86400;
  }

  static async create(opts: IdentityServiceOptions): Promise<IdentityService> {
    const { policy } = opts;
    const tokens = policy.doc.tokens;
    if (tokens && tokens.default_ttl_seconds > tokens.max_ttl_seconds) {
      throw new Error('tokens.default_ttl_seconds must not exceed tokens.max_ttl_seconds');
    }
    validateCredentialTemplates(policy);
    const oidc = new OidcVerifier(policy.doc.oidc, opts.logger, opts.oidc);
    if (policy.doc.auth !== 'off' && oidc.issuerCount === 0) {
      opts.logger?.warn({ auth: policy.doc.auth }, 'no oidc issuers configured: only wiretrail credentials (tokens create) can authenticate');
    }
    let store: TokenStore;
    try {
      store = await TokenStore.open(opts.dataDir);
    } catch (err) {
      await oidc.close();
      throw err;
    }
    return new IdentityService(oidc, store, policy, opts.logger, opts.throttle);
  }

  async authenticate(proxyAuthorization: string | undefined, context: AuthContext = {}): Promise<AuthOutcome> {
    const noHeader = proxyAuthorization === undefined || proxyAuthorization.trim() === '';
    if (noHeader) {
      const bySource = this.bySource.match(context.clientAddress ?? undefined);
      if (bySource) return { ok: true, identity: bySource };
    }
    if (this.mode === 'off') return { ok: true, identity: ANONYMOUS };
    if (noHeader) {
      // Not a failed attempt: clients try without credentials first and answer the 407 challenge.
      return this.mode === 'optional' ? { ok: true, identity: ANONYMOUS } : this.refuse('missing credentials');
    }
    const client = addressKey(context.clientAddress);
    const wait = this.throttle.blockedAddress(client);
    if (wait !== null) return this.refuse('too many failed authentication attempts', wait);
    const parsed = parseProxyAuthorization(proxyAuthorization);
    const out: Checked = parsed.ok ? await this.check(parsed.token) : { ok: false, reason: parsed.reason };
    if (out.ok) return out;
    const retry = await this.throttle.failed(client, out.credentialId ?? null, out.reason);
    return this.refuse(retry === null ? out.reason : 'too many failed authentication attempts', retry ?? undefined);
  }

  /** Verifies a bare token (OIDC JWT or wiretrail credential). */
  async verifyToken(token: string): Promise<AuthOutcome> {
    const out = await this.check(token);
    return out.ok ? out : { ok: false, reason: out.reason };
  }

  /** Like verifyToken, and names the credential a failure belongs to when it is a known one. */
  private async check(token: string): Promise<Checked> {
    if (isCredential(token)) return this.checkCredential(token);
    if (OidcVerifier.looksLikeJwt(token)) {
      const r = await this.oidc.verify(token);
      return r.ok ? r.outcome : r;
    }
    return { ok: false, reason: 'unknown credential' };
  }

  private async checkCredential(token: string): Promise<Checked> {
    let rec: TokenRecord | undefined;
    try {
      rec = await this.store.lookup(token);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'token store unreadable; refusing wiretrail credentials');
      return { ok: false, reason: 'credential store unavailable' };
    }
    const out = this.checkRecord(rec);
    return out.ok || !rec ? out : { ...out, credentialId: `wt:${rec.id}` };
  }

  private checkRecord(rec: TokenRecord | undefined): AuthOutcome {
    if (!rec) return { ok: false, reason: 'unknown credential' };
    if (rec.revokedAt !== null) return { ok: false, reason: 'credential revoked' };
    if (rec.expiresAt !== null && Date.now() >= rec.expiresAt) return { ok: false, reason: 'token expired' };
    const unmet = rec.kind === 'exchanged' && rec.identity.issuer ? this.oidc.unmetStoredClaims(rec.identity.issuer, rec.identity.claims) : null;
    if (unmet !== null) return { ok: false, reason: `claim ${unmet} not allowed` };
    return { ok: true, identity: identityFromRecord(rec) };
  }

  async recheck(identity: Identity): Promise<AuthOutcome> {
    // The address cannot change on an open connection.
    if (identity.kind === 'source') return { ok: true, identity };
    if (identity.kind === 'anonymous') {
      return this.mode === 'required' ? this.refuse('missing credentials') : { ok: true, identity };
    }
    if (identity.kind === 'oidc') {
      // Same tolerance as at verification, so a token does not die between two checks of one instant.
      const skewMs = this.oidc.clockSkewSeconds * 1000;
      if (identity.expiresAt !== null && Date.now() >= identity.expiresAt + skewMs) return this.refuse('token expired');
      return { ok: true, identity };
    }
    if (!identity.tokenId) return this.refuse('unknown credential');
    let rec: TokenRecord | undefined;
    try {
      rec = await this.store.get(identity.tokenId);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'token store unreadable; refusing wiretrail credentials');
      return this.refuse('credential store unavailable');
    }
    const out = this.checkRecord(rec);
    // Keep the identity the connection started with; only validity is re-decided.
    return out.ok ? { ok: true, identity } : this.refuse(out.reason);
  }

  private refuse(reason: string, retryAfterSeconds?: number): AuthOutcome {
    this.log?.debug({ reason }, 'proxy authentication refused');
    return retryAfterSeconds === undefined ? { ok: false, reason } : { ok: false, reason, retryAfterSeconds };
  }

  /** TTL in seconds from a request: default when absent; refuses more than the policy maximum. */
  resolveTtl(requested: number | undefined): number {
    const ttl = requested ?? Math.min(this.defaultTtlSeconds, this.maxTtlSeconds);
    if (ttl > this.maxTtlSeconds) throw new ExchangeError(`ttl ${ttl}s exceeds the policy maximum of ${this.maxTtlSeconds}s (tokens.max_ttl_seconds)`, 400);
    return ttl;
  }

  /**
   * Exchanges a valid OIDC token for a wiretrail credential bound to its identity and claims. Failed
   * exchanges count towards the same per-address and per-credential throttle as the proxy path.
   */
  async exchange(oidcToken: string, opts: { ttlSeconds?: number; name?: string; clientAddress?: string | null } = {}): Promise<{ token: string; info: TokenInfo }> {
    const client = addressKey(opts.clientAddress);
    const wait = this.throttle.blockedAddress(client);
    if (wait !== null) throw new ThrottledError(wait);
    const fail = async (reason: string, credentialId?: string): Promise<never> => {
      const retry = await this.throttle.failed(client, credentialId ?? null, reason);
      throw retry === null ? new ExchangeError(reason, 401) : new ThrottledError(retry);
    };
    if (isCredential(oidcToken) || !OidcVerifier.looksLikeJwt(oidcToken)) return fail('an OIDC token (JWT) is required');
    const ttl = this.resolveTtl(opts.ttlSeconds);
    const r = await this.oidc.verify(oidcToken);
    if (!r.ok) return fail(r.reason, r.credentialId);
    if (!r.outcome.ok) return fail(r.outcome.reason);
    const id = r.outcome.identity;
    const identity: StoredIdentity = { subject: id.subject, groups: id.groups, attributes: id.attributes };
    if (id.email) identity.email = id.email;
    if (id.issuer) {
      identity.issuer = id.issuer;
      const claims = this.oidc.requiredClaimValues(id.issuer, r.payload);
      if (Object.keys(claims).length) identity.claims = claims;
    }
    const name = exchangedCredentialName(opts.name, id.subject);
    const issued = await this.store.issue({ kind: 'exchanged', name, identity, ttlSeconds: ttl });
    this.log?.info({ tokenId: issued.record.id, subject: id.subject, issuer: id.issuer, ttl }, 'oidc token exchanged for a wiretrail credential');
    return { token: issued.token, info: (await this.store.list()).find((t) => t.id === issued.record.id)! };
  }

  /** A static credential for machines without an IdP; subject `token:<name>`. */
  async createStatic(opts: { name: string; ttlSeconds?: number | null; groups?: string[] }): Promise<{ token: string; info: TokenInfo }> {
    const issued = await createStaticToken(this.store, opts);
    this.log?.info({ tokenId: issued.info.id, name: opts.name }, 'static wiretrail credential created');
    return issued;
  }

  async revoke(idOrToken: string): Promise<TokenInfo | null> {
    const r = await this.store.revoke(idOrToken);
    if (r) this.log?.info({ tokenId: r.id }, 'wiretrail credential revoked');
    return r ? (await this.store.list()).find((t) => t.id === r.id) ?? null : null;
  }

  list(): Promise<TokenInfo[]> {
    return this.store.list();
  }

  async close(): Promise<void> {
    await this.oidc.close();
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;
const GROUP_RE = /^[^\s,]{1,256}$/;

/** Shared by the admin API and `tokens create --data DIR` (no policy needed). */
export async function createStaticToken(
  store: TokenStore,
  opts: { name: string; ttlSeconds?: number | null; groups?: string[] },
): Promise<{ token: string; info: TokenInfo }> {
  if (!NAME_RE.test(opts.name)) throw new ExchangeError('name: 1-128 characters, letters, digits and ._@:- (starting with a letter or digit)', 400);
  const groups = [...new Set(opts.groups ?? [])];
  for (const g of groups) if (!GROUP_RE.test(g)) throw new ExchangeError(`group "${g}" is not a valid group name`, 400);
  const issued = await store.issue({
    kind: 'static',
    name: opts.name,
    identity: { subject: `token:${opts.name}`, groups, attributes: { token_name: opts.name } },
    ttlSeconds: opts.ttlSeconds ?? null,
  });
  return { token: issued.token, info: (await store.list()).find((t) => t.id === issued.record.id)! };
}
