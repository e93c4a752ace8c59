// What the proxy needs from the other stages, as small interfaces (wired in src/runtime.ts); data types come
// from the stages' own index modules.
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Recorder } from '../audit/types.js';
import type { Limits } from '../config/defaults.js';
import type { Authenticator, Identity } from '../identity/types.js';
import type { AwsSigningCredential } from '../identity/aws-credential.js';
import type { Policy, HostSettings, RequestGate } from '../policy/index.js';
import type { Upstream } from '../upstream/index.js';
import type { ExchangeMeta, Finding, MaskedTarget, MaskSession, Output, ProcessorOptions, RequestMasker, RequestMaskResult, ResponseMeta, ResponseProcessor } from '../stream/index.js';

export type { Finding, MaskSession, ExchangeMeta, ResponseMeta, Output, ResponseProcessor };

/** The mask stage as the proxy uses it: one numbering scope (session) per connection. */
export interface MaskEngineLike {
  session(): MaskSession;
}

export interface StreamStage {
  createResponseProcessor(ex: ExchangeMeta, res: ResponseMeta, mask: { client: MaskSession | null; record: MaskSession }, opts?: ProcessorOptions): ResponseProcessor;
  maskRequestBody(ex: ExchangeMeta, body: Buffer, session: MaskSession): RequestMaskResult;
  /** Masks large request bodies off the event loop with the same result as maskRequestBody; absent: inline. */
  requestMasker?: RequestMasker;
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
  /** The AWS credential wiretrail signs this host's requests with (policy `aws_sigv4`), or null. */
  awsSigningCredential?(settings: HostSettings, identity: Identity, host: string): AwsSigningCredential | null;
}

export interface CertificateSource {
  contextFor(host: string): SecureContext;
}

/**
 * The limits the proxy enforces. Their defaults live in the configuration model (src/config/defaults.ts
 * DEFAULT_LIMITS); the runtime passes the effective values in `ProxyDeps.limits`, so the proxy keeps none.
 */
export type ProxyLimits = Omit<Limits, 'upstreamIdleTimeoutMs'>;

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
  limits: ProxyLimits;
}
