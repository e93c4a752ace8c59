// AWS Bedrock InvokeModelWithResponseStream (`/model/{id}/invoke-with-response-stream`) and InvokeModel.
//
// Each `chunk` event's payload is {"bytes":"<base64>"} (plus Bedrock's `p` padding); the bytes are the
// model's own stream event as JSON: Anthropic Messages events for Claude (what Claude Code reads),
// Chat Completions chunks for OpenAI-format models, or a model's plain fields (bedrock-models.ts). The
// decoded event goes through that format's adapter on this lane, so a secret split across chunks is
// masked whole, token by token; what it returns is base64-encoded again. A synthesized event (text
// released before an end signal) becomes a chunk of its own. Bytes that are not canonical base64 (a
// lenient decoder skips what a strict one refuses) are never passed on as they came: they are
// re-encoded from what the masker saw. Any other event (an exception) ends the inner stream first.
import { parseJsonText } from '../json-text.js';
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { opaqueSchema } from '../opaque.js';
import { confirmApi } from '../select.js';
import { isObj, out, type Msg, type StreamAdapter } from './base.js';
import { ModelFieldsAdapter } from './bedrock-models.js';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The adapter for the decoded model events (set by the first one). */
export type InnerFactory = (api: import('../select.js').Api, lane: Lane) => StreamAdapter;

interface Decoded {
  text: string;
  latin1: boolean;
  /** The base64 text is exactly what encoding the bytes gives back. */
  canonical: boolean;
}

function decodeBytes(b64: string): Decoded {
  const bytes = Buffer.from(b64, 'base64');
  const canonical = bytes.toString('base64') === b64;
  try {
    return { text: fatalUtf8.decode(bytes), latin1: false, canonical };
  } catch {
    return { text: bytes.toString('latin1'), latin1: true, canonical };
  }
}

const chunk = (bytes: string): Msg => ({ event: 'chunk', data: JSON.stringify({ bytes }) });

export class BedrockInvokeAdapter implements StreamAdapter {
  private inner: StreamAdapter | null = null;
  private latin1 = false;

  constructor(
    private readonly lane: Lane,
    private readonly adapterFor: InnerFactory,
  ) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    const isChunk = (msg.event ?? 'chunk') === 'chunk' && isObj(parsed) && typeof parsed['bytes'] === 'string';
    if (!isChunk) {
      // an exception or an unknown event: the model's stream ends here; the event is masked whole
      const before = this.finish();
      if (parsed === undefined) return [...before, { ...msg, data: this.lane.text(msg.data) }];
      return [...before, out(msg, parsed, this.lane.walk(parsed))];
    }
    const outer = parsed as JsonObj;
    const b64 = outer['bytes'] as string;
    const d = decodeBytes(b64);
    this.latin1 = d.latin1;
    const p = d.latin1 ? null : parseJsonText(d.text);
    const value = p && p.ok ? p.value : undefined;
    const innerData = p && p.ok && !p.canonical ? JSON.stringify(value) : d.text;
    const inner = this.innerFor(value);
    const innerIn: Msg = { data: innerData };
    const innerOut = inner.message(innerIn, value);

    const handled = new Handled();
    handled.add(outer, 'bytes');
    const outerChanged = this.lane.walk(outer, handled);
    const result: Msg[] = [];
    innerOut.forEach((m, i) => {
      const isOriginal = i === innerOut.length - 1;
      if (!isOriginal) {
        result.push(chunk(this.encode(m.data)));
        return;
      }
      const same = m.data === d.text && d.canonical;
      if (!same) outer['bytes'] = this.encode(m.data);
      result.push(out(msg, outer, !same || outerChanged));
    });
    return result;
  }

  private encode(text: string): string {
    return Buffer.from(text, this.latin1 ? 'latin1' : 'utf8').toString('base64');
  }

  /** The first decoded event names the model's format: Anthropic Messages, another known one, or plain fields. */
  private innerFor(value: Json | undefined): StreamAdapter {
    if (this.inner) return this.inner;
    const api = value === undefined ? 'anthropic-messages' : confirmApi('anthropic-messages', value);
    if (api && api !== 'anthropic-messages') this.lane.useSchema(opaqueSchema(api, 'response'));
    if (!api) this.lane.useSchema(opaqueSchema(null, 'response'));
    this.inner = api ? this.adapterFor(api, this.lane) : new ModelFieldsAdapter(this.lane);
    return this.inner;
  }

  finish(): Msg[] {
    if (!this.inner) return [];
    return this.inner.finish().map((m) => chunk(this.encode(m.data)));
  }

  json(body: Json): boolean {
    // InvokeModel: the model's own answer, masked with its format's opaque paths
    const api = confirmApi('anthropic-messages', body);
    if (api !== 'anthropic-messages') this.lane.useSchema(opaqueSchema(api, 'response'));
    return this.lane.walk(body);
  }
}
