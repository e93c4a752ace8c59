// Requests whose body must not be changed on the way up, because masking it would break authentication
// rather than stop a leak:
// - credential exchanges: the client authenticates itself (Claude Code on Vertex posts its gcloud OAuth
//   refresh token to oauth2.googleapis.com/token). Not a leak: recorded masked, forwarded intact; the answer
//   (the new access token) goes back to the client intact too, recorded masked.
// - signed bodies (AWS SigV4 on Bedrock): a masked body no longer matches its signature. When the host's
//   policy gives wiretrail an AWS credential (`aws_sigv4`), wiretrail signs the masked request itself
//   (src/upstream/sigv4.ts). Otherwise it cannot re-sign: the record is masked and the forward is refused,
//   unless the policy says `signed_body: pass` (forwarded unmasked, recorded masked, marked as such). Never
//   silently broken.
import { WiretrailError } from '../errors/index.js';

interface Endpoint {
  host: RegExp;
  path: RegExp;
}

/** Token endpoints where the request body is the client's own credential. */
const CREDENTIAL_EXCHANGES: readonly Endpoint[] = [
  { host: /^oauth2\.googleapis\.com$/, path: /^\/token(?:\?|$)/ },
  { host: /^(?:www\.)?googleapis\.com$/, path: /^\/oauth2\/v[34]\/token(?:\?|$)/ },
  // Workload identity federation (ADC of type external_account): the subject token (a CI's OIDC JWT) is sent here.
  { host: /^sts\.googleapis\.com$/, path: /^\/v1\/token(?:\?|$)/ },
  { host: /^sts(?:\.[a-z0-9-]+)?\.amazonaws\.com$/, path: /^\// },
  { host: /^login\.microsoftonline\.com$/, path: /\/oauth2\/(?:v2\.0\/)?token(?:\?|$)/ },
  { host: /^github\.com$/, path: /^\/login\/oauth\/access_token(?:\?|$)/ },
];

export function isCredentialExchange(host: string, path: string): boolean {
  return CREDENTIAL_EXCHANGES.some((e) => e.host.test(host) && e.path.test(path));
}

/** 'sigv4' when the request carries an AWS Signature V4 that covers its body; null otherwise. */
export function signedBody(headers: Record<string, string | string[] | undefined>): 'sigv4' | null {
  const auth = String(headers['authorization'] ?? '');
  const payload = String(headers['x-amz-content-sha256'] ?? '');
  if (/^AWS4-HMAC-SHA256\s/i.test(auth) && payload !== 'UNSIGNED-PAYLOAD') return 'sigv4';
  return null;
}

export class SignedBodyError extends WiretrailError {
  override readonly name: string = 'SignedBodyError';
  override readonly code = 'WT_ERR_SIGNED_BODY';
  override readonly status = 403;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
}

export type BodyForward =
  /** The (masked, where the policy says so) body as usual. */
  | { kind: 'as-usual' }
  /** The client's bytes, unmasked; `why` goes into the record. */
  | { kind: 'intact'; why: 'credential-exchange' | 'signed-body-passed' };

/**
 * How the body of this request goes up. Throws SignedBodyError when masking changed a signed body and the
 * host's policy does not say `signed_body: pass`.
 */
export function bodyForward(o: {
  host: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  changed: boolean;
  signedBodyPolicy: 'refuse' | 'pass' | undefined;
  /** wiretrail signs the request it sends (it holds the host's AWS credential). */
  resign?: boolean;
}): BodyForward {
  if (isCredentialExchange(o.host, o.path)) return { kind: 'intact', why: 'credential-exchange' };
  if (!o.changed || o.resign || signedBody(o.headers) === null) return { kind: 'as-usual' };
  if (o.signedBodyPolicy === 'pass') return { kind: 'intact', why: 'signed-body-passed' };
  throw new SignedBodyError(
    `the request to ${o.host} is signed (AWS SigV4) and holds a secret; masking it would break the signature and wiretrail cannot re-sign it: refused (policy hosts.${o.host}.aws_sigv4 lets wiretrail sign it; signed_body: pass forwards it unmasked)`,
  );
}
