// One error hierarchy for every stage (the undici model: `UndiciError` + subclasses with stable codes).
// A refusal's HTTP status, its RFC 9209 Proxy-Status error type and whether it is recorded as a policy
// `deny` or a failure `error` are properties of the class, never derived from message text, so
// rewording a message can never change what the client or the log sees.

/** RFC 9209 §2.3 proxy error types wiretrail uses (plus `http_request_denied` for policy refusals). */
export type ProxyErrorType =
  | 'destination_ip_prohibited'
  | 'destination_not_found'
  | 'destination_unavailable'
  | 'connection_refused'
  | 'connection_terminated'
  | 'connection_timeout'
  | 'tls_certificate_error'
  | 'tls_protocol_error'
  | 'http_request_error'
  | 'http_request_denied'
  | 'http_response_incomplete'
  | 'http_response_content_coding'
  | 'http_upgrade_failed'
  | 'proxy_internal_error'
  | 'proxy_internal_response'
  | 'proxy_configuration_error';

export interface WiretrailErrorOptions {
  cause?: unknown;
  /** Extra response headers the refusal carries (Proxy-Authenticate, Retry-After). */
  headers?: Record<string, string>;
  /** A body in the client's API shape (a provider-style JSON error) instead of the plain-text line. */
  body?: { text: string; contentType: string };
}

/** Base of every error wiretrail answers with. `code` is stable (WT_ERR_*): match on it, never on text. */
export class WiretrailError extends Error {
  override readonly name: string = 'WiretrailError';
  readonly code: string = 'WT_ERR_INTERNAL';
  readonly status: number = 500;
  readonly proxyStatus: ProxyErrorType = 'proxy_internal_error';
  /** A policy said no (`deny` record) or something failed (`error` record). */
  readonly recordKind: 'deny' | 'error' = 'error';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { text: string; contentType: string } | null;

  constructor(message: string, options: WiretrailErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options.headers ?? {};
    this.body = options.body ?? null;
  }
}

/** The request is malformed (bad CONNECT authority, non-TLS bytes on an intercepted tunnel, …). */
export class BadRequestError extends WiretrailError {
  override readonly name: string = 'BadRequestError';
  override readonly code = 'WT_ERR_BAD_REQUEST';
  override readonly status = 400;
  override readonly proxyStatus = 'http_request_error';
}

/** Missing, wrong, expired or revoked proxy credential. */
export class ProxyAuthError extends WiretrailError {
  override readonly name: string = 'ProxyAuthError';
  override readonly code = 'WT_ERR_PROXY_AUTH';
  override readonly status = 407;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
}

/** Repeated failed proxy authentication from this client or against this credential (identity throttle). */
export class AuthThrottledError extends WiretrailError {
  override readonly name: string = 'AuthThrottledError';
  override readonly code = 'WT_ERR_AUTH_THROTTLED';
  override readonly status = 429;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

/** The policy refuses this destination or request. */
export class PolicyDeniedError extends WiretrailError {
  override readonly name: string = 'PolicyDeniedError';
  override readonly code = 'WT_ERR_POLICY_DENIED';
  override readonly status = 403;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
}

/** The destination resolves to a private, loopback or otherwise non-public address (SSRF guard). */
export class DestinationProhibitedError extends WiretrailError {
  override readonly name: string = 'DestinationProhibitedError';
  override readonly code = 'WT_ERR_DESTINATION_PROHIBITED';
  override readonly status = 403;
  override readonly proxyStatus = 'destination_ip_prohibited';
  override readonly recordKind = 'deny';
}

/** The inner Host header or TLS SNI names another host than the CONNECT authority. */
export class MisdirectedRequestError extends WiretrailError {
  override readonly name: string = 'MisdirectedRequestError';
  override readonly code = 'WT_ERR_MISDIRECTED';
  override readonly status = 421;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
}

export class BodyTooLargeError extends WiretrailError {
  override readonly name: string = 'BodyTooLargeError';
  override readonly code = 'WT_ERR_BODY_TOO_LARGE';
  override readonly status = 413;
  override readonly proxyStatus = 'http_request_error';
  override readonly recordKind = 'deny';
}

export class HeadersTooLargeError extends WiretrailError {
  override readonly name: string = 'HeadersTooLargeError';
  override readonly code = 'WT_ERR_HEADERS_TOO_LARGE';
  override readonly status = 431;
  override readonly proxyStatus = 'http_request_error';
}

export class RequestTimeoutError extends WiretrailError {
  override readonly name: string = 'RequestTimeoutError';
  override readonly code = 'WT_ERR_REQUEST_TIMEOUT';
  override readonly status = 408;
  override readonly proxyStatus = 'http_request_error';
}

/** A protocol upgrade wiretrail cannot record on this path. */
export class UpgradeRefusedError extends WiretrailError {
  override readonly name: string = 'UpgradeRefusedError';
  override readonly code = 'WT_ERR_UPGRADE_REFUSED';
  override readonly status = 501;
  override readonly proxyStatus = 'http_upgrade_failed';
  override readonly recordKind = 'deny';
}

/** The audit store cannot record: intercepted traffic stops (fail closed). */
export class StoreUnavailableError extends WiretrailError {
  override readonly name: string = 'StoreUnavailableError';
  override readonly code = 'WT_ERR_STORE_UNAVAILABLE';
  override readonly status = 503;
  override readonly proxyStatus = 'proxy_internal_error';
  constructor(message: string, options: WiretrailErrorOptions = {}) {
    // The store recovers by itself (ingest catches up, a failed write is retried every 0.25-5 s): say when to come back.
    super(message, { ...options, headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS), ...options.headers } });
  }
}

/** Retry-After of a 503 while the audit store cannot record (seconds). */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** wiretrail is shutting down: the grace period ended before this exchange did (SIGTERM). */
export class ShuttingDownError extends WiretrailError {
  override readonly name: string = 'ShuttingDownError';
  override readonly code = 'WT_ERR_SHUTTING_DOWN';
  override readonly status = 503;
  override readonly proxyStatus = 'proxy_internal_response';
}

/** The global buffer budget is spent: the client should retry later (Retry-After). */
export class OverloadedError extends WiretrailError {
  override readonly name: string = 'OverloadedError';
  override readonly code = 'WT_ERR_OVERLOADED';
  override readonly status = 503;
  override readonly proxyStatus = 'proxy_internal_response';
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

/** A response body whose Content-Encoding cannot be decoded, so it cannot be masked or recorded readably. */
export class UndecodableResponseError extends WiretrailError {
  override readonly name: string = 'UndecodableResponseError';
  override readonly code = 'WT_ERR_UNDECODABLE_RESPONSE';
  override readonly status = 502;
  override readonly proxyStatus = 'http_response_content_coding';
}

/** A request body whose Content-Encoding cannot be decoded: it is never forwarded (it could not be masked). */
export class UndecodableRequestError extends WiretrailError {
  override readonly name: string = 'UndecodableRequestError';
  override readonly code = 'WT_ERR_UNDECODABLE_REQUEST';
  override readonly status = 400;
  override readonly proxyStatus = 'http_request_error';
  override readonly recordKind = 'deny';
}

/**
 * A request body that claims to be JSON but cannot be masked as a value (does not parse, too deep,
 * not UTF-8): never forwarded. Answered in the provider's error shape (src/stream/provider-error.ts).
 */
export class UnmaskableRequestError extends WiretrailError {
  override readonly name: string = 'UnmaskableRequestError';
  override readonly code = 'WT_ERR_UNMASKABLE_REQUEST';
  override readonly status = 400;
  override readonly proxyStatus = 'http_request_error';
  override readonly recordKind = 'deny';
}

/** The upstream ended a response early or broke its framing. */
export class UpstreamBrokenError extends WiretrailError {
  override readonly name: string = 'UpstreamBrokenError';
  override readonly code = 'WT_ERR_UPSTREAM_BROKEN';
  override readonly status = 502;
  override readonly proxyStatus = 'http_response_incomplete';
}

/** The client went away; nobody is left to answer (expected control flow, like mockttp's AbortError). */
export class ClientGoneError extends WiretrailError {
  override readonly name: string = 'ClientGoneError';
  override readonly code = 'WT_ERR_CLIENT_GONE';
  override readonly status = 499;
  override readonly proxyStatus = 'connection_terminated';
}

/** The credential that opened this connection was revoked or expired while it was open. */
export class CredentialEndedError extends WiretrailError {
  override readonly name: string = 'CredentialEndedError';
  override readonly code = 'WT_ERR_CREDENTIAL_ENDED';
  override readonly status = 407;
  override readonly proxyStatus = 'http_request_denied';
  override readonly recordKind = 'deny';
}

/** Something looked up by id does not exist (a session, a token). */
export class NotFoundError extends WiretrailError {
  override readonly name: string = 'NotFoundError';
  override readonly code = 'WT_ERR_NOT_FOUND';
  override readonly status = 404;
  override readonly proxyStatus = 'proxy_internal_response';
}

/** A local failure of wiretrail itself (a bug, a missing file): 502 to the client, one clear line. */
export class InternalProxyError extends WiretrailError {
  override readonly name: string = 'InternalProxyError';
  override readonly code = 'WT_ERR_INTERNAL';
  override readonly status = 502;
  override readonly proxyStatus = 'proxy_internal_error';
}

export function isWiretrailError(err: unknown): err is WiretrailError {
  return err instanceof WiretrailError;
}

/**
 * The HTTP status for any thrown value: the class decides. Errors from outside the hierarchy that carry
 * a numeric `status` (older stage errors) keep it; anything else is an internal failure.
 */
export function statusOf(err: unknown, fallback = 500): number {
  if (err instanceof WiretrailError) return err.status;
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : fallback;
}

/** Stable code for any thrown value (`WT_ERR_*`, or the Node errno code, or WT_ERR_INTERNAL). */
export function codeOf(err: unknown): string {
  if (err instanceof WiretrailError) return err.code;
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'WT_ERR_INTERNAL';
}

/** Any thrown value as a WiretrailError (wrapping foreign errors as internal, status kept if they had one). */
export function toWiretrailError(err: unknown): WiretrailError {
  if (err instanceof WiretrailError) return err;
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  const status = statusOf(err, 502);
  if (status === 403) return new PolicyDeniedError(msg, { cause: err });
  if (status === 404) return new NotFoundError(msg, { cause: err });
  return new InternalProxyError(msg, { cause: err });
}
