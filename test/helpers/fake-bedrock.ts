// What a fake Bedrock needs, built on the AWS SDK's own pieces rather than ours: SigV4 verification that
// recomputes the signature with @smithy/signature-v4 (and checks the body against its signed hash, as AWS
// does), and event-stream frames written with @smithy/eventstream-codec.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export interface FakeAwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const codec = new EventStreamCodec(
  (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'),
  (s) => new Uint8Array(Buffer.from(s, 'utf8')),
);

/** One event-stream frame: an event (`:event-type`) or an exception (`:exception-type`). */
export function esFrame(type: string, payload: unknown, kind: 'event' | 'exception' = 'event'): Buffer {
  return Buffer.from(
    codec.encode({
      headers: {
        [kind === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: kind },
      },
      body: new Uint8Array(Buffer.from(JSON.stringify(payload))),
    }),
  );
}

/** InvokeModelWithResponseStream frames for a list of the model's own events (Anthropic Messages JSON). */
export function invokeStream(events: unknown[]): Buffer {
  return Buffer.concat(events.map((e) => esFrame('chunk', { bytes: Buffer.from(JSON.stringify(e)).toString('base64'), p: 'abcdefghijklmnop' })));
}

/** Reads frames back with the SDK codec (it throws on a bad CRC); `inner` is a chunk's decoded JSON. */
export function readFrames(b: Buffer): Array<{ type: string; kind: string; json: any; inner?: any }> {
  const out = [];
  let pos = 0;
  while (pos < b.length) {
    const len = b.readUInt32BE(pos);
    const m = codec.decode(b.subarray(pos, pos + len));
    const h = (n: string) => m.headers[n]?.value as string | undefined;
    const json = JSON.parse(Buffer.from(m.body).toString('utf8'));
    const f: { type: string; kind: string; json: any; inner?: any } = { type: h(':event-type') ?? h(':exception-type') ?? '', kind: h(':message-type') ?? '', json };
    if (typeof json.bytes === 'string') f.inner = JSON.parse(Buffer.from(json.bytes, 'base64').toString('utf8'));
    out.push(f);
    pos += len;
  }
  return out;
}

/**
 * Checks a request's SigV4 signature the way AWS does: the signed headers as received, the payload hash
 * against the body, then the signature recomputed with the key. Returns null when valid, else why not.
 */
export async function verifySigV4(req: IncomingMessage, body: Buffer, key: FakeAwsKey, scope = { region: 'us-east-1', service: 'bedrock' }): Promise<string | null> {
  const auth = String(req.headers['authorization'] ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `no SigV4 Authorization header (${auth ? 'malformed' : 'missing'})`;
  const [, akid, , region, service, signedList] = m as unknown as string[];
  if (akid !== key.accessKeyId) return `signed with access key ${akid!.slice(0, 4)}…, not ours`;
  if (region !== scope.region || service !== scope.service) return `scope ${region}/${service}`;
  const payload = String(req.headers['x-amz-content-sha256'] ?? createHash('sha256').update(body).digest('hex'));
  if (payload !== createHash('sha256').update(body).digest('hex')) return 'the body does not match its signed hash';
  if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) return 'wrong or missing session token';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!d) return 'no X-Amz-Date';
  const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return 'signature expired';
  const headers: Record<string, string> = {};
  for (const h of signedList!.split(';')) {
    const v = req.headers[h];
    if (v === undefined) return `signed header ${h} missing`;
    headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const url = new URL(req.url ?? '/', 'https://x');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({ credentials: key, region: scope.region, service: scope.service, sha256: Sha256 });
  const again = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'https:', hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''), path: url.pathname, query, headers, body },
    { signingDate },
  );
  return again.headers['authorization'] === auth ? null : 'signature does not match';
}
