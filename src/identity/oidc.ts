// OIDC ID-token verification with jose: per-issuer keys from discovery, a JWKS URL or a JWKS file,
// an asymmetric-only algorithm allowlist, and one short reason per way a token can be wrong.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import type { OidcIssuerSpec, PolicyDoc } from '../policy/index.js';
import { DEFAULT_CLAIM_MAP, mapClaims, type ClaimMapping } from './claims.js';
import { claimValues, compileConditions, conditionClaims, unmetCondition } from './claim-conditions.js';
import { requireOwnerPinned } from './multi-tenant.js';
import { requireSecureUrl } from './secure-url.js';
import type { AuthOutcome } from './types.js';

/** Signature algorithms with a public verification key. HMAC (HS*) and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

export interface OidcTuning {
  /** Minimum time between JWKS refetches triggered by an unknown `kid` (jose cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** JWKS cache lifetime. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of one discovery or JWKS fetch. Default 5 s. */
  fetchTimeoutMs?: number;
}

const MAX_TOKEN_CHARS = 16 * 1024;
const MAX_DISCOVERY_BYTES = 1 << 20;

interface IssuerRuntime {
  spec: OidcIssuerSpec;
  audience: string[];
  algorithms: string[];
  mapping: ClaimMapping;
  conditions: ReturnType<typeof compileConditions>;
  keys(): Promise<JWTVerifyGetKey>;
  agent: Agent | null;
}

/** `credentialId` (issuer#sub) is set on failures of a token whose signature did verify (expired, audience, claims…). */
export type OidcVerifyResult = { ok: true; payload: JWTPayload; outcome: AuthOutcome } | { ok: false; reason: string; credentialId?: string };

/** Who a genuinely signed token belongs to, for throttling repeated failures of the same credential. */
function signedCredentialId(issuer: string, payload: JWTPayload | undefined): string | undefined {
  return typeof payload?.sub === 'string' && payload.sub ? `oidc:${issuer}#${payload.sub.slice(0, 256)}` : undefined;
}

export class OidcVerifier {
  private readonly issuers = new Map<string, IssuerRuntime>();
  private readonly skew: number;

  constructor(
    oidc: PolicyDoc['oidc'],
    private readonly log: Logger | undefined,
    private readonly tuning: OidcTuning = {},
  ) {
    this.skew = oidc?.clock_skew_seconds ?? 60;
    const claimMap = { ...DEFAULT_CLAIM_MAP, ...(oidc?.claims ?? {}) };
    (oidc?.issuers ?? []).forEach((spec, i) => {
      const where = `oidc.issuers[${i}] (${spec.issuer})`;
      try {
        if (this.issuers.has(spec.issuer)) throw new Error('issuer listed twice');
        this.issuers.set(spec.issuer, this.buildIssuer(spec, claimMap));
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    });
  }

  get clockSkewSeconds(): number {
    return this.skew;
  }

  get issuerCount(): number {
    return this.issuers.size;
  }

  private buildIssuer(spec: OidcIssuerSpec, claimMap: Record<string, string>): IssuerRuntime {
    const algorithms = spec.algorithms ?? [...ASYMMETRIC_ALGORITHMS];
    if (algorithms.length === 0) throw new Error('algorithms must not be empty');
    for (const a of algorithms) {
      if (!ASYMMETRIC_ALGORITHMS.includes(a)) {
        throw new Error(`algorithm "${a}" is not allowed: use asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
      }
    }
    if (spec.jwks_uri && spec.jwks_file) throw new Error('give either jwks_uri or jwks_file, not both');
    requireOwnerPinned(spec.issuer, spec.required_claims);
    const conditions = compileConditions(spec.required_claims);
    const audience = Array.isArray(spec.audience) ? spec.audience : [spec.audience];
    if (audience.some((a) => a.length === 0)) throw new Error('audience must not be empty');

    let agent: Agent | null = null;
    if (spec.ca_file) {
      let pem: string;
      try {
        pem = readFileSync(spec.ca_file, 'utf8');
      } catch (err) {
        throw new Error(`ca_file ${spec.ca_file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`ca_file ${spec.ca_file} holds no PEM certificate`);
      agent = new Agent({ connect: { ca: [...rootCertificates, pem] } });
    }
    const timeout = this.tuning.fetchTimeoutMs ?? 5000;
    const doFetch = (url: string, init: { headers?: Headers | Record<string, string>; redirect: 'manual' | 'error'; signal: AbortSignal }) =>
      undiciFetch(url, { method: 'GET', headers: plainHeaders(init.headers), redirect: init.redirect, signal: init.signal, ...(agent ? { dispatcher: agent } : {}) }) as unknown as Promise<Response>;
    const remote = (url: URL): JWTVerifyGetKey =>
      createRemoteJWKSet(url, {
        timeoutDuration: timeout,
        cooldownDuration: this.tuning.jwksCooldownMs ?? 30_000,
        cacheMaxAge: this.tuning.jwksCacheMaxAgeMs ?? 600_000,
        [customFetch]: (u, o) => doFetch(u, o),
      }) as JWTVerifyGetKey;

    let keys: () => Promise<JWTVerifyGetKey>;
    if (spec.jwks_file) {
      let jwks: unknown;
      try {
        jwks = JSON.parse(readFileSync(spec.jwks_file, 'utf8'));
      } catch (err) {
        throw new Error(`jwks_file ${spec.jwks_file} cannot be read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
        throw new Error(`jwks_file ${spec.jwks_file} is not a JWK Set (no "keys" array)`);
      }
      const local = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]) as JWTVerifyGetKey;
      keys = async () => local;
    } else if (spec.jwks_uri) {
      const set = remote(requireSecureUrl(spec.jwks_uri, 'jwks_uri'));
      keys = async () => set;
    } else {
      const discoveryUrl = new URL(spec.issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration');
      requireSecureUrl(discoveryUrl.href, 'issuer (for discovery)');
      keys = this.discoverer(spec.issuer, discoveryUrl, (u) => remote(u), doFetch, timeout);
    }
    return {
      spec,
      audience,
      algorithms,
      mapping: { groupsClaim: spec.groups_claim ?? 'groups', attributes: claimMap },
      conditions,
      keys,
      agent,
    };
  }

  /** Lazy discovery: fetched on the first token of that issuer, shared while in flight, retried after a pause on failure. */
  private discoverer(
    issuer: string,
    url: URL,
    remote: (u: URL) => JWTVerifyGetKey,
    doFetch: (url: string, init: { redirect: 'error'; signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>,
    timeout: number,
  ): () => Promise<JWTVerifyGetKey> {
    let found: JWTVerifyGetKey | null = null;
    let inflight: Promise<JWTVerifyGetKey> | null = null;
    let failedAt = 0;
    const retryAfter = Math.min(this.tuning.jwksCooldownMs ?? 30_000, 30_000);
    const discover = async (): Promise<JWTVerifyGetKey> => {
      const res = await doFetch(url.href, { redirect: 'error', signal: AbortSignal.timeout(timeout), headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`discovery answered HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_DISCOVERY_BYTES) throw new Error('discovery document too large');
      let doc: { issuer?: unknown; jwks_uri?: unknown };
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch {
        throw new Error('discovery document is not JSON');
      }
      // OpenID Connect Discovery 1.0 §4.3: the document's issuer must be exactly the configured one.
      if (doc.issuer !== issuer) throw new Error(`discovery document names issuer ${JSON.stringify(doc.issuer)}`);
      if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
      return remote(requireSecureUrl(doc.jwks_uri, 'discovered jwks_uri'));
    };
    return () => {
      if (found) return Promise.resolve(found);
      if (inflight) return inflight;
      if (failedAt && Date.now() - failedAt < retryAfter) return Promise.reject(new Error('discovery failed recently; retrying later'));
      inflight = discover().then(
        (k) => {
          found = k;
          inflight = null;
          this.log?.info({ issuer }, 'oidc discovery done');
          return k;
        },
        (err: unknown) => {
          failedAt = Date.now();
          inflight = null;
          this.log?.warn({ issuer, err: errorText(err) }, 'oidc discovery failed');
          throw err;
        },
      );
      return inflight;
    };
  }

  /** The claims an issuer's required_claims look at, with their values in `payload`. */
  requiredClaimValues(issuer: string, payload: JWTPayload): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const name of conditionClaims(this.issuers.get(issuer)?.conditions ?? [])) out[name] = claimValues(payload as Record<string, unknown>, name);
    return out;
  }

  /**
   * Re-checks claims kept beside an exchanged credential against the issuer's current required_claims:
   * a credential minted before a condition existed (or was tightened) stops working. Null when met.
   */
  unmetStoredClaims(issuer: string, claims: Record<string, string[]> | undefined): string | null {
    const conditions = this.issuers.get(issuer)?.conditions ?? [];
    return conditions.length ? unmetCondition(claims ?? {}, conditions) : null;
  }

  /** Whether the string has the shape of a compact JWS (three base64url parts). */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
  }

  async verify(token: string): Promise<OidcVerifyResult> {
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed token' };
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return { ok: false, reason: 'malformed token' };
    }
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    // `none` and HMAC are refused before any key is looked at, whatever the issuer.
    if (typeof alg !== 'string' || alg === 'none' || !ASYMMETRIC_ALGORITHMS.includes(alg)) return { ok: false, reason: 'algorithm not allowed' };
    if (!issuer) return { ok: false, reason: 'bad issuer' };
    if (!issuer.algorithms.includes(alg)) return { ok: false, reason: 'algorithm not allowed' };

    let keys: JWTVerifyGetKey;
    try {
      keys = await issuer.keys();
    } catch {
      return { ok: false, reason: 'issuer unavailable' };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.spec.issuer,
        audience: issuer.audience,
        algorithms: issuer.algorithms,
        clockTolerance: this.skew,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const reason = reasonFor(err);
      if (reason === 'issuer keys unavailable') this.log?.warn({ issuer: issuer.spec.issuer, err: errorText(err) }, 'oidc key fetch failed');
      // jose checks claims only after the signature: these errors carry a genuine payload.
      const signed = err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired ? signedCredentialId(issuer.spec.issuer, err.payload) : undefined;
      return signed ? { ok: false, reason, credentialId: signed } : { ok: false, reason };
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) return { ok: false, reason: 'token has no subject' };
    const unmet = unmetCondition(payload, issuer.conditions);
    if (unmet !== null) return { ok: false, reason: `claim ${unmet} not allowed`, credentialId: signedCredentialId(issuer.spec.issuer, payload)! };
    const mapped = mapClaims(payload, issuer.mapping);
    const identity = {
      kind: 'oidc' as const,
      subject: payload.sub,
      groups: mapped.groups,
      issuer: issuer.spec.issuer,
      attributes: mapped.attributes,
      expiresAt: (payload.exp as number) * 1000,
      ...(mapped.email ? { email: mapped.email } : {}),
    };
    return { ok: true, payload, outcome: { ok: true, identity } };
  }

  async close(): Promise<void> {
    await Promise.all([...this.issuers.values()].map((i) => i.agent?.close()));
  }
}

function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return 'token not yet valid';
      case 'aud':
        return 'bad audience';
      case 'iss':
        return 'bad issuer';
      case 'exp':
        return 'token has no expiry';
      case 'sub':
        return 'token has no subject';
      case 'iat':
        return 'bad issued-at time';
      default:
        return `bad ${err.claim} claim`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown signing key';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'ambiguous signing key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed token';
  if (err instanceof errors.JOSENotSupported) return 'unsupported token';
  return 'issuer keys unavailable';
}

function plainHeaders(h: Headers | Record<string, string> | undefined): Record<string, string> {
  if (!h) return {};
  if (typeof (h as Headers).forEach === 'function' && typeof (h as Headers).get === 'function') {
    const out: Record<string, string> = {};
    (h as Headers).forEach((v, k) => (out[k] = v));
    return out;
  }
  return h as Record<string, string>;
}

function errorText(err: unknown): string {
  const e = err as Error & { cause?: { message?: string } };
  return [e?.message, e?.cause?.message].filter(Boolean).join(': ') || String(err);
}
