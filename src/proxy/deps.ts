// What the proxy needs from the other stages, as small interfaces (wired in src/runtime.ts); data types come
// from the stages' own index modules.
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Recorder } from '../audit/types.js';
import type { Authenticator, Identity } from '../identity/types.js';
import type { Policy, HostSettings, RequestGate } from '../policy/index.js';
import type { Upstream } from '../upstream/index.js';
import type { ExchangeMeta, Finding, MaskedTarget, MaskSession, Output, ProcessorOptions, RequestMaskResult, ResponseMeta, ResponseProcessor } from '../stream/index.js';

export type { Finding, MaskSession, ExchangeMeta, ResponseMeta, Output, ResponseProcessor };

/** The mask stage as the proxy uses it: one numbering scope (session) per connection. */
export interface MaskEngineLike {
  session(): MaskSession;
}

export interface StreamStage {
  createResponseProcessor(ex: ExchangeMeta, res: ResponseMeta, mask: { client: MaskSession | null; record: MaskSession }, opts?: ProcessorOptions): ResponseProcessor;
  maskRequestBody(ex: ExchangeMeta, body: Buffer, session: MaskSession): RequestMaskResult;
  maskRequestTarget(target: string, session: MaskSession): MaskedTarget;
  maskRequestHeaders(
    headers: Record<string, string | string[] | undefined>,
    session: MaskSession,
    keep: (name: string) => boolean,
  ): { headers: Record<string, string | string[] | undefined>; findings: Finding[] };
}

export interface CredentialStage {
  upstreamCredential(settings: HostSettings, identity: Identity, host: string): { set: Record<string, string>; strip: string[] };
  clientCredentialFinding(headers: Record<string, string | string[] | undefined>): string | null;
}

export interface CertificateSource {
  contextFor(host: string): SecureContext;
}

export interface ProxyLimits {
  maxRequestBodyBytes: number;
  /** Request-body bytes held in memory across all exchanges at once (global budget; 503 + Retry-After beyond). */
  maxBufferedBytes: number;
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  /** How often open connections' credentials are re-checked (revocation, expiry); 0 turns it off. */
  credentialRecheckMs: number;
  /** Cap on one SSE event / NDJSON line of a response; the stream stage's default when unset. */
  maxEventBytes?: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxRequestBodyBytes: 32 * 1024 * 1024,
  // Two maximum-size bodies at once: a held body costs ~4× its size while it is decoded and masked as text
  // (bench/dos.ts measured +391 MiB RSS for three 31 MiB bodies), so 64 MiB keeps a flood near 300 MiB.
  maxBufferedBytes: 64 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 15_000,
  tunnelIdleTimeoutMs: 15 * 60_000,
  credentialRecheckMs: 2_000,
};

export interface ProxyDeps {
  /** Read once per exchange; may be a getter over a reloadable policy. */
  policy: Policy;
  /** Request rules (deny / hold for approval / rate limit / record level); absent = allow all. */
  gate?: RequestGate;
  ca: CertificateSource;
  upstream: Upstream;
  recorder: Recorder;
  auth: Authenticator;
  mask: MaskEngineLike;
  stream: StreamStage;
  credentials: CredentialStage;
  logger: Logger;
  limits?: Partial<ProxyLimits>;
}
