// AWS event-stream messages as the adapters see them (Msg: event type, payload text) and back to
// frames with correct CRCs. A frame's headers go back in their order with their types; string (and
// byte-array) header values are masked whole like SSE `event:`/`id:` values, since a header a
// malicious upstream fills reaches the client like the payload does.
import type { Msg } from './adapters/base.js';
import { encodeMessage, type EventHeader, type EventMessage } from './eventstream.js';
import type { Lane } from './lane.js';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_HEADER_VALUE = 0xffff;

/** The event type an adapter dispatches on: `:event-type`, else `:exception-type`, else `:error-code`. */
export function frameToMsg(m: EventMessage): Msg {
  let event: string | undefined;
  for (const name of [':event-type', ':exception-type', ':error-code']) {
    const h = m.headers.find((x) => x.name === name);
    if (h && h.value.type === 'string') {
      event = h.value.value;
      break;
    }
  }
  let data: string;
  let latin1 = false;
  try {
    data = fatalUtf8.decode(m.payload);
  } catch {
    data = m.payload.toString('latin1'); // one char per byte: masked as text, the bytes survive
    latin1 = true;
  }
  const msg: Msg = { data, frame: { headers: m.headers, latin1 } };
  if (event !== undefined) msg.event = event;
  return msg;
}

/** Cuts masked text to what a header value can hold (a placeholder may be longer than the secret). */
function fit(s: string): string {
  while (Buffer.byteLength(s, 'utf8') > MAX_HEADER_VALUE) s = s.slice(0, Math.floor(s.length * 0.9));
  return s;
}

function maskHeader(lane: Lane, h: EventHeader): EventHeader {
  if (h.value.type === 'string') {
    const v = lane.text(h.value.value);
    return v === h.value.value ? h : { name: h.name, value: { type: 'string', value: fit(v) } };
  }
  if (h.value.type === 'bytes') {
    const s = h.value.value.toString('latin1');
    const v = lane.text(s);
    return v === s ? h : { name: h.name, value: { type: 'bytes', value: Buffer.from(fit(v), 'latin1').subarray(0, MAX_HEADER_VALUE) } };
  }
  return h;
}

/** Headers of a message an adapter synthesized (released text before an end signal). */
function defaultHeaders(event: string): EventHeader[] {
  return [
    { name: ':event-type', value: { type: 'string', value: event } },
    { name: ':content-type', value: { type: 'string', value: 'application/json' } },
    { name: ':message-type', value: { type: 'string', value: 'event' } },
  ];
}

/** The frame of one message, as a latin1 string (the lane output is text; latin1 keeps every byte). */
export function msgToFrame(m: Msg, lane: Lane): string {
  const headers = m.frame ? m.frame.headers.map((h) => maskHeader(lane, h)) : defaultHeaders(m.event ?? 'chunk');
  const payload = Buffer.from(m.data, m.frame?.latin1 ? 'latin1' : 'utf8');
  return encodeMessage({ headers, payload }).toString('latin1');
}

/**
 * What the client gets when wiretrail ends an event stream (a bad frame, an oversize message): a
 * `modelStreamErrorException`, which both Bedrock stream unions declare, so the SDK raises it with
 * the reason instead of ending as if the answer were complete.
 */
export function brokenStreamFrame(reason: string): string {
  const headers: EventHeader[] = [
    { name: ':exception-type', value: { type: 'string', value: 'modelStreamErrorException' } },
    { name: ':content-type', value: { type: 'string', value: 'application/json' } },
    { name: ':message-type', value: { type: 'string', value: 'exception' } },
  ];
  const payload = Buffer.from(JSON.stringify({ message: `wiretrail: stream ended: ${reason}` }));
  return encodeMessage({ headers, payload }).toString('latin1');
}
