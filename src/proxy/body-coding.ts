// Content-Encoding at the proxy's edge. Decision (issue 9, fail closed): wiretrail decodes every
// intercepted body itself, before masking and recording, and REFUSES one it cannot decode — 502 for a
// response, 400 for a request — instead of forwarding or recording opaque bytes. Why not "record opaque":
// compressed or unknown bytes cannot be masked, so forwarding them could hand a secret to the model or the
// client, and recording them would put an unmaskable secret into the log; the audit trail could not show
// what was said. To keep refusals rare, the client's Accept-Encoding is narrowed to codings we can decode,
// so a well-behaved upstream never picks another. Downstream stages only ever see identity bodies; the
// client gets the decoded body without Content-Encoding/Content-Length.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { BodyDecoder, DecodedTooLargeError, MAX_DECODED_PER_CHUNK, decodeBody, parseContentEncoding, supportedCodings } from '../stream/content-encoding.js';
import { BodyTooLargeError, UndecodableRequestError, UndecodableResponseError } from '../errors/index.js';

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function without(h: IncomingHttpHeaders, names: string[]): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!names.includes(k.toLowerCase())) out[k] = v;
  return out;
}

/** A decoder for the response body (null for identity) and the headers the stages below should see. */
export function responseDecoding(headers: IncomingHttpHeaders): { decoder: BodyDecoder | null; headers: IncomingHttpHeaders } {
  const raw = header(headers, 'content-encoding');
  const codings = parseContentEncoding(raw);
  if (codings === null) {
    throw new UndecodableResponseError(`upstream answered with Content-Encoding "${String(raw).slice(0, 60)}", which wiretrail cannot decode, mask or record; refused`);
  }
  if (codings.length === 0) return { decoder: null, headers };
  return { decoder: new BodyDecoder(codings), headers: without(headers, ['content-encoding', 'content-length', 'content-md5']) };
}

/** Decodes one response chunk; corrupt input becomes a refusal, never raw bytes. */
export async function decodeChunk(decoder: BodyDecoder, chunk: Buffer): Promise<Buffer> {
  try {
    return await decoder.write(chunk);
  } catch (err) {
    if (err instanceof DecodedTooLargeError) throw new UndecodableResponseError(`upstream response chunk decodes to more than ${MAX_DECODED_PER_CHUNK} bytes (decompression bomb?); nothing undecoded was forwarded`, { cause: err });
    throw new UndecodableResponseError(`upstream response body does not match its Content-Encoding (${(err as NodeJS.ErrnoException).code ?? 'corrupt'}); nothing undecoded was forwarded`, { cause: err });
  }
}

export async function decodeEnd(decoder: BodyDecoder): Promise<Buffer> {
  try {
    return await decoder.end();
  } catch (err) {
    throw new UndecodableResponseError(`upstream response body does not match its Content-Encoding (${(err as NodeJS.ErrnoException).code ?? 'truncated'}); nothing undecoded was forwarded`, { cause: err });
  }
}

/** The request body as identity bytes, and the request headers without the coding; refuses what it cannot read. */
export function decodeRequest(headers: IncomingHttpHeaders, body: Buffer, maxBytes: number): { body: Buffer; headers: IncomingHttpHeaders; decoded: boolean } {
  const raw = header(headers, 'content-encoding');
  const codings = parseContentEncoding(raw);
  if (codings === null) throw new UndecodableRequestError(`request Content-Encoding "${String(raw).slice(0, 60)}" cannot be decoded, so it cannot be masked; not forwarded`);
  if (codings.length === 0) return { body, headers, decoded: false };
  let plain: Buffer;
  try {
    plain = decodeBody(body, codings, maxBytes);
  } catch (err) {
    // A decompression bomb: the decoded body is bounded like a plain one (max_request_body_bytes).
    if (err instanceof DecodedTooLargeError) throw new BodyTooLargeError(`request body decodes to more than ${maxBytes} bytes; not forwarded`);
    throw new UndecodableRequestError(`request body does not match its Content-Encoding (${(err as NodeJS.ErrnoException).code ?? 'corrupt'}); not forwarded`, { cause: err });
  }
  return { body: plain, headers: without(headers, ['content-encoding', 'content-length', 'content-md5']), decoded: true };
}

/** Accept-Encoding narrowed to codings wiretrail decodes (identity when none is left). */
export function narrowAcceptEncoding(out: OutgoingHttpHeaders): void {
  const v = out['accept-encoding'];
  if (v === undefined) return;
  const supported = new Set<string>(supportedCodings());
  const kept = String(Array.isArray(v) ? v.join(',') : v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => {
      const token = s.split(';')[0]!.trim().toLowerCase();
      return token === 'identity' || token === 'x-gzip' || supported.has(token);
    });
  out['accept-encoding'] = kept.length ? kept.join(', ') : 'identity';
}
