// Header hygiene: hop-by-hop removal for forwarding, credential redaction for the record.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { JsonObject } from '../audit/types.js';
import type { MaskSession } from './deps.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);

/** Headers that carry credentials: their values never reach the record or a log line. */
export const CREDENTIAL_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-goog-api-key',
  'openai-api-key', 'anthropic-api-key', 'x-auth-token', 'x-amz-security-token',
]);

/** Copies `headers` without hop-by-hop fields (and fields named in Connection). */
export function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || named.has(key)) continue;
    out[key] = v;
  }
  return out;
}

/** Headers as recorded: credentials replaced by their scheme + [REDACTED], other values masked. */
export function recordedHeaders(headers: Record<string, string | string[] | number | undefined>, mask: MaskSession): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    const values = Array.isArray(v) ? v.map(String) : [String(v)];
    const mapped = values.map((val) => {
      if (CREDENTIAL_HEADERS.has(key)) {
        const scheme = /^(Bearer|Basic|Token|Digest)\s/i.exec(val)?.[1];
        return scheme ? `${scheme} [REDACTED]` : '[REDACTED]';
      }
      return mask.maskText(val).text;
    });
    out[key] = mapped.length === 1 ? mapped[0]! : mapped;
  }
  return out;
}
