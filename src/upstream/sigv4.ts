// AWS Signature Version 4 for requests wiretrail forwards with a credential the policy holds (Bedrock):
// the runner holds no AWS key, and the body is signed after masking, so masking a prompt no longer breaks
// the signature. Signing is the AWS SDK's own signer (@smithy/signature-v4: canonical request, path
// escaping, signed-header rules, session tokens), fed node:crypto hashes.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { WiretrailError } from '../errors/index.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigningScope {
  region: string;
  service: string;
}

/** The request cannot be signed (no region/service known for the host): nothing is forwarded. */
export class AwsSigningError extends WiretrailError {
  override readonly name = 'AwsSigningError';
  override readonly code = 'WT_ERR_UPSTREAM_SIGNING';
  override readonly status = 502;
}

/** Headers of the client's own signature: replaced by ours, never forwarded next to it. */
export const AWS_SIGNATURE_HEADERS: readonly string[] = Object.freeze(['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']);

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape the signer asks for. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class NodeSha256 {
  private h: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}

/**
 * Region and signing name from an AWS endpoint host, for the services wiretrail signs for: Bedrock's
 * runtimes (`bedrock-runtime[-fips].{region}.amazonaws.com[.cn]`, signing name `bedrock`).
 */
export function scopeFromHost(host: string): SigningScope | null {
  const m = /^bedrock(?:-[a-z]+)*\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m ? { region: m[1]!, service: 'bedrock' } : null;
}

function splitTarget(path: string): { path: string; query: Record<string, string | string[]> } {
  const q = path.indexOf('?');
  if (q < 0) return { path, query: {} };
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(path.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { path: path.slice(0, q), query };
}

/**
 * Signs a request exactly as it will be sent (method, host, path with query, headers, body) and returns
 * the headers to send: the given ones without any client signature, plus Authorization, X-Amz-Date,
 * X-Amz-Content-Sha256 and (with a session token) X-Amz-Security-Token.
 */
export async function signSigV4(
  req: { method: string; host: string; path: string; headers: OutgoingHttpHeaders; body: Buffer },
  creds: AwsCredentials & Partial<SigningScope>,
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const derived = scopeFromHost(req.host);
  const region = creds.region ?? derived?.region;
  const service = creds.service ?? derived?.service;
  if (!region || !service) throw new AwsSigningError(`cannot tell the AWS region and service of ${req.host}: set region and service in its aws_sigv4 policy entry`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const name = k.toLowerCase();
    if (v === undefined || AWS_SIGNATURE_HEADERS.includes(name)) continue;
    headers[name] = Array.isArray(v) ? v.join(',') : String(v);
  }
  headers['host'] ??= req.host;
  const credentials = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}) };
  const signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256 });
  const { path, query } = splitTarget(req.path);
  const signed = await signer.sign({ method: req.method, protocol: 'https:', hostname: req.host, path, query, headers, body: req.body }, { signingDate });
  return signed.headers as Record<string, string>;
}
