// The identity stage: who is behind a proxy connection, wiretrail credentials, upstream key injection.
import type { Logger } from 'pino';
import type { Policy } from '../policy/index.js';
import { IdentityService } from './authenticator.js';
import type { OidcTuning } from './oidc.js';
import type { ThrottleOptions } from './auth-throttle.js';

export * from './types.js';
export { IdentityService, ExchangeError, ThrottledError, createStaticToken } from './authenticator.js';
export { AuthFailures } from './auth-failures.js';
export { FailureThrottle, addressKey, type ThrottleOptions } from './auth-throttle.js';
export { identityAdminRoutes } from './admin-routes.js';
export { upstreamCredential, validateCredentialTemplates, credentialSourceProblems, CredentialError, CLIENT_CREDENTIAL_HEADERS } from './upstream-credential.js';
export { clientCredentialFinding, looksLikeRealKey } from './client-key-finding.js';
export { awsSigningCredential, type AwsSigningCredential } from './aws-credential.js';
export { TokenStore, TokenStoreError, TOKENS_FILE, hashCredential, type TokenInfo } from './token-store.js';
export { tokenJson, type TokenJson } from './api-form.js';
export { printable, exchangedCredentialName } from './credential-name.js';
export { parseDuration, formatDuration } from './duration.js';
export { ASYMMETRIC_ALGORITHMS, type OidcTuning } from './oidc.js';

/**
 * Builds the authenticator for a policy. Validates the oidc issuers (files readable, algorithms
 * asymmetric, URLs https or loopback http) and the credential templates; throws an Error naming the
 * policy key otherwise. Discovery and JWKS are fetched lazily on the first token of an issuer.
 */
export function createAuthenticator(opts: { policy: Policy; dataDir: string; logger?: Logger; oidc?: OidcTuning; throttle?: ThrottleOptions }): Promise<IdentityService> {
  return IdentityService.create(opts);
}
