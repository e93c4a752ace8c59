// The request side: mask prompt content before it reaches the model. JSON bodies are masked value
// by value (messages[].content as string or parts, input, instructions, system, tool results,
// tool_use inputs, tool-call arguments, Gemini contents[].parts[].text, Ollama prompt/messages…)
// and re-serialised; identifiers, signatures, encrypted reasoning and base64 media are left alone.
// Other bodies are masked as text. An encoded body is re-encoded with the same codings, so only
// Content-Length needs updating.
import { parseJson } from './adapters/base.js';
import { decodeBody, encodeBody, parseContentEncoding } from './content-encoding.js';
import { Lane } from './lane.js';
import { apiFromPath, getHeader } from './select.js';
import type { ExchangeMeta, MaskSession, RequestMaskResult } from './types.js';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

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

  const lane = new Lane(session);
  let text: string;
  let latin1 = false;
  try {
    text = fatalUtf8.decode(plain);
  } catch {
    // not UTF-8 (multipart with binary parts…): latin1 maps every byte to one char and back
    text = plain.toString('latin1');
    latin1 = true;
  }
  const contentType = getHeader(ex.requestHeaders, 'content-type') ?? '';
  const looksJson = /json/i.test(contentType) || /^\s*[{[]/.test(text);
  let masked: string;
  let adapter: string;
  const json = !latin1 && looksJson ? parseJson(text) : undefined;
  if (json !== undefined) {
    adapter = api ?? 'json';
    if (typeof json === 'string') {
      const m = session.maskText(json);
      masked = m.text === json ? text : JSON.stringify(m.text);
      if (m.findings.length) return finish(m.text !== json, masked, m.findings, adapter);
    } else {
      masked = lane.walk(json) ? JSON.stringify(json) : text;
    }
  } else {
    adapter = api ?? 'text';
    const m = session.maskText(text);
    masked = m.text;
    if (m.findings.length) return finish(masked !== text, masked, m.findings, adapter);
  }
  return finish(masked !== text, masked, lane.findings, adapter);

  function finish(changed: boolean, out: string, findings: RequestMaskResult['findings'], name: string): RequestMaskResult {
    if (!changed) return { body, changed: false, findings, adapter: name };
    const plainOut = Buffer.from(out, latin1 ? 'latin1' : 'utf8');
    return { body: codings!.length ? encodeBody(plainOut, codings!) : plainOut, changed: true, findings, adapter: name };
  }
}
