// What the bench client sends to the mock upstream and how a stamped SSE chunk looks on the wire.

export interface MockRequest {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content?: string }[];
  /** SSE only: number of content chunks (default 200) and the pause before each (ms, default 5). */
  chunks?: number;
  interval_ms?: number;
}

export const CHAT_PATH = '/v1/chat/completions';

const WORDS = ['Sure', 'here', 'is', 'the', 'function', 'you', 'asked', 'for', 'with', 'retries', 'and', 'backoff'];

/**
 * One chat.completion.chunk. The send time (ns, CLOCK_MONOTONIC) rides in `system_fingerprint`, a string
 * field the proxy forwards untouched; the client reads it back with `readStamps`.
 */
export function streamChunk(i: number, n: number, stamp: bigint): string {
  const last = i === n - 1;
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1760000000,
    model: 'gpt-4.1-mini',
    system_fingerprint: `fp_${stamp}`,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: WORDS[0] } : last ? {} : { content: ` ${WORDS[i % WORDS.length]}` }, logprobs: null, finish_reason: last ? 'stop' : null }],
  })}\n\n`;
}

const ANSWER = Array.from({ length: 60 }, (_, i) => WORDS[i % WORDS.length]).join(' ');

/** A non-streamed chat.completion of typical size (~700 bytes). */
export function jsonCompletion(prompt: string): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1760000000,
    model: 'gpt-4.1-mini',
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: `${ANSWER} (${prompt.length} chars asked)`, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 60, total_tokens: 72 },
  });
}

const MARK = Buffer.from('"system_fingerprint":"fp_');

/**
 * Finds every stamp in a received buffer. A chunk boundary can cut an event, so the caller passes the
 * unread tail back in as `carry`; returns the stamps found and the new tail.
 */
export function readStamps(carry: Buffer, data: Buffer): { stamps: bigint[]; carry: Buffer } {
  const buf = carry.length ? Buffer.concat([carry, data]) : data;
  const stamps: bigint[] = [];
  let from = 0;
  let lastEnd = 0;
  for (;;) {
    const at = buf.indexOf(MARK, from);
    if (at < 0) break;
    const start = at + MARK.length;
    const end = buf.indexOf(0x22 /* " */, start);
    if (end < 0) {
      lastEnd = at;
      return { stamps, carry: Buffer.from(buf.subarray(lastEnd)) };
    }
    stamps.push(BigInt(buf.toString('latin1', start, end)));
    from = end + 1;
    lastEnd = from;
  }
  // Keep a tail long enough to hold a mark cut at the boundary.
  const keep = Math.max(lastEnd, buf.length - MARK.length);
  return { stamps, carry: keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0) };
}
