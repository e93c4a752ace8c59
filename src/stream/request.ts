// The request side: mask prompt content before it reaches the model. JSON bodies are masked value
// by value (messages[].content as string or parts, input, instructions, system, tool results,
// tool_use inputs, tool-call arguments, Gemini contents[].parts[].text, Ollama prompt/messages…)
// and re-serialised; object keys are masked too; values at the provider's opaque paths
// (identifiers, signatures, encrypted reasoning, base64 media: opaque.ts) only for strong
// credential rules. Ambiguous JSON text is re-serialised; JSON that does not parse is refused with
// a provider-shaped 400 (json-text.ts). Other bodies are masked as text. An encoded body is re-encoded with the same codings, so only
// Content-Length needs updating.
import { decodeBody, encodeBody, parseContentEncoding } from './content-encoding.js';
import { parseJsonText } from './json-text.js';
import { Lane } from './lane.js';
import { opaqueSchema } from './opaque.js';
import { providerError } from './provider-error.js';
import { apiFromPath, getHeader, type Api } from './select.js';
import type { ExchangeMeta, MaskSession, RequestMaskResult } from './types.js';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether the body must be read as JSON: a JSON content type, or none that says otherwise and text
 * that starts like JSON. Such a body that does not parse is refused rather than masked as text
 * (json-text.ts says why).
 */
function claimsJson(contentType: string | undefined, text: string): boolean {
  if (contentType !== undefined && contentType.trim() !== '') return /json/i.test(contentType);
  return /^\ufeff?\s*[{["]/.test(text);
}

/** A body whose type does not say JSON but is not form data either, and that starts like JSON. */
function mayBeJson(contentType: string | undefined, text: string): boolean {
  if (contentType !== undefined && /(form-urlencoded|multipart\/)/i.test(contentType)) return false;
  return /^\ufeff?\s*[{["]/.test(text);
}

function refuse(api: Api | null, reason: string): RequestMaskResult {
  return {
    body: Buffer.alloc(0),
    changed: false,
    findings: [],
    adapter: api ?? 'json',
    refusal: { status: 400, reason, ...providerError(api, 400, `wiretrail refused the request: ${reason}`) },
  };
}

export function maskRequestBody(ex: ExchangeMeta, body: Buffer, session: MaskSession): RequestMaskResult {
  const api = apiFromPath(ex.path);
  const unchanged = (adapter: string): RequestMaskResult => ({ body, changed: false, findings: [], adapter });
  if (body.length === 0) return unchanged(api ?? 'passthrough');

  const codings = parseContentEncoding(getHeader(ex.requestHeaders, 'content-encoding'));
  if (codings === null) return unchanged('passthrough'); // cannot decode: the caller decides (fail closed)
  let plain: Buffer;
  try {
    plain = decodeBody(body, codings);
  } catch {
    return unchanged('passthrough');
  }

  let text: string;
  let latin1 = false;
  try {
    text = fatalUtf8.decode(plain);
  } catch {
    // not UTF-8 (multipart with binary parts…): latin1 maps every byte to one char and back
    text = plain.toString('latin1');
    latin1 = true;
  }
  const contentType = getHeader(ex.requestHeaders, 'content-type');
  const claims = claimsJson(contentType, text);
  // JSON under another text type (text/plain…) is still read as JSON by many servers: mask it as a
  // value when it parses, so an escaped key (`sk\u002d…`) cannot slip past a text masker
  const parsed = claims || (!latin1 && mayBeJson(contentType, text)) ? parseJsonText(text) : null;
  if (claims || parsed?.ok) {
    if (latin1) return refuse(api, 'body is not valid UTF-8 JSON');
    if (!parsed || !parsed.ok) return refuse(api, parsed ? parsed.reason : 'body is not valid JSON');
    const adapter = api ?? 'json';
    const lane = new Lane(session);
    lane.useSchema(opaqueSchema(api, 'request'));
    const json = parsed.value;
    let out: string;
    let findings: RequestMaskResult['findings'];
    if (typeof json === 'string') {
      const m = session.maskText(json);
      out = m.text === json && parsed.canonical ? text : JSON.stringify(m.text);
      findings = m.findings;
    } else {
      // ambiguous text (duplicate keys, lone surrogates, BOM) is re-serialised even when unchanged
      out = lane.walk(json) || !parsed.canonical ? JSON.stringify(json) : text;
      findings = lane.findings;
    }
    return finish(out !== text, out, findings, adapter);
  }
  const m = session.maskText(text);
  return finish(m.text !== text, m.text, m.findings, api ?? 'text');

  function finish(changed: boolean, out: string, findings: RequestMaskResult['findings'], name: string): RequestMaskResult {
    if (!changed) return { body, changed: false, findings, adapter: name };
    const plainOut = Buffer.from(out, latin1 ? 'latin1' : 'utf8');
    return { body: codings!.length ? encodeBody(plainOut, codings!) : plainOut, changed: true, findings, adapter: name };
  }
}
