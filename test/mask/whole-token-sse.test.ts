// Whole-token masking through the real response processor (issue 10): an answer holding secrets
// whose identifying part is a prefix (sk-ant-admin01-, github_pat_), an infix (…Q~…,
// .atlasv1.) or a suffix (…_mmk) is streamed in every SSE flavour — OpenAI chat (content and
// tool_calls arguments), Responses (output_text deltas, the *.done / content_part.done /
// output_item.done / response.completed repeats, function-call arguments), Anthropic (text_delta
// and tool_use input_json_delta), Gemini (text parts and functionCall args) — with the secrets cut
// into one-character events and random token-sized events, the bytes fed in random chunks. On the
// client side and in the record: no 6-character run of a secret, and no leading characters of a
// secret before a placeholder; every secret is masked under its own rule.
import t from 'tap';
import { createResponseProcessor } from '../../src/stream/index.js';
import { createMaskEngine } from '../../src/mask/index.js';
import { exchange, FIXTURES, randomChunks, rng } from '../stream/helpers.js';

const R = rng(1010);
const pick = (alpha: string, n: number) => Array.from({ length: n }, () => alpha[Math.floor(R() * alpha.length)]).join('');
const AN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const SECRETS: Record<string, string> = {
  'anthropic-admin-key': `sk-ant-admin01-${pick(AN + '-_', 86)}AA`,
  'github-fine-grained-pat': `github_pat_11${pick(AN, 20)}_${pick(AN, 59)}`,
  'maxmind-license-key': `${pick(AN, 6)}_${pick(AN, 29)}_mmk`,
  'terraform-cloud-token': `${pick(AN, 14)}.atlasv1.${pick(AN + '_-', 67)}`,
  'azure-ad-client-secret': `${pick(AN, 3)}8Q~${pick(AN + '_~.-', 34)}`,
};
const TEXT = [
  'Here are the credentials from the config you pasted:',
  '',
  `- Anthropic admin key: ${SECRETS['anthropic-admin-key']}`,
  `- the fine-grained PAT \`${SECRETS['github-fine-grained-pat']}\` used by CI`,
  `- MaxMind ${SECRETS['maxmind-license-key']} and Terraform ${SECRETS['terraform-cloud-token']}`,
  `- the app's client secret ${SECRETS['azure-ad-client-secret']} (rotate it)`,
  '',
  'Move them into a secret store.',
].join('\n');

/** Token-sized pieces of `s`; every character of a secret its own piece when `fine`. */
function pieces(s: string, seed: number, fine: boolean): string[] {
  const r = rng(seed);
  const inSecret = new Uint8Array(s.length);
  for (const v of Object.values(SECRETS)) for (let i = s.indexOf(v); i >= 0; i = s.indexOf(v, i + 1)) inSecret.fill(1, i, i + v.length);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    const n = fine && inSecret[i] ? 1 : 1 + Math.floor(r() * 6);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

const j = (v: unknown) => JSON.stringify(v);
const ARGS = j({ path: 'notes/credentials.md', content: TEXT });

function sse(events: [string | null, unknown][]): string {
  return events.map(([ev, data]) => (ev ? `event: ${ev}\n` : '') + `data: ${typeof data === 'string' ? data : j(data)}\n\n`).join('');
}

const BODIES: Record<string, (seed: number, fine: boolean) => string> = {
  'openai-chat.sse': (seed, fine) =>
    sse([
      ...pieces(TEXT, seed, fine).map((p): [null, unknown] => [null, { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] }]),
      [null, { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'write_file', arguments: '' } }] }, finish_reason: null }] }],
      ...pieces(ARGS, seed + 1, fine).map((p): [null, unknown] => [null, { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: p } }] }, finish_reason: null }] }]),
      [null, { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }],
      [null, '[DONE]'],
    ]),
  'openai-responses.sse': (seed, fine) => {
    const msg = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], text: TEXT }] };
    const fc = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'write_file', arguments: ARGS };
    return sse([
      ['response.output_item.added', { type: 'response.output_item.added', output_index: 0, item: { ...msg, status: 'in_progress', content: [] } }],
      ['response.content_part.added', { type: 'response.content_part.added', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } }],
      ...pieces(TEXT, seed, fine).map((p): [string, unknown] => ['response.output_text.delta', { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: p }]),
      ['response.output_text.done', { type: 'response.output_text.done', item_id: 'msg_1', output_index: 0, content_index: 0, text: TEXT }],
      ['response.content_part.done', { type: 'response.content_part.done', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: TEXT } }],
      ['response.output_item.done', { type: 'response.output_item.done', output_index: 0, item: msg }],
      ['response.output_item.added', { type: 'response.output_item.added', output_index: 1, item: { ...fc, status: 'in_progress', arguments: '' } }],
      ...pieces(ARGS, seed + 1, fine).map((p): [string, unknown] => ['response.function_call_arguments.delta', { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: p }]),
      ['response.function_call_arguments.done', { type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 1, arguments: ARGS }],
      ['response.output_item.done', { type: 'response.output_item.done', output_index: 1, item: fc }],
      ['response.completed', { type: 'response.completed', response: { id: 'resp_1', object: 'response', status: 'completed', output: [msg, fc] } }],
    ]);
  },
  'anthropic-messages.sse': (seed, fine) =>
    sse([
      ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ...pieces(TEXT, seed, fine).map((p): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }]),
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'write_file', input: {} } }],
      ...pieces(ARGS, seed + 1, fine).map((p): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: p } }]),
      ['content_block_stop', { type: 'content_block_stop', index: 1 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 200 } }],
      ['message_stop', { type: 'message_stop' }],
    ]),
  'gemini.sse': (seed, fine) =>
    sse([
      ...pieces(TEXT, seed, fine).map((p): [null, unknown] => [null, { candidates: [{ content: { parts: [{ text: p }], role: 'model' }, index: 0 }] }]),
      [null, { candidates: [{ content: { parts: [{ functionCall: { name: 'write_file', args: JSON.parse(ARGS) } }], role: 'model' }, finishReason: 'STOP', index: 0 }] }],
    ]),
};

/** What of a secret is left in `out`: a 6-character run, or its first characters before a placeholder. */
function leftOf(out: string, secret: string): string | null {
  const bare = out.replace(/\[MASKED:[^\]]*\]/g, '\u0000'); // placeholders name the rule (anthropic-admin-key)
  for (let i = 0; i + 6 <= secret.length; i++) if (bare.includes(secret.slice(i, i + 6))) return secret.slice(i, i + 6);
  for (let k = 3; k < 24; k++) if (out.includes(secret.slice(0, k) + '[MASKED:')) return secret.slice(0, k) + '…';
  return null;
}

async function run(name: string, body: Buffer, seed: number): Promise<{ client: string; record: string }> {
  const eng = createMaskEngine();
  const meta = FIXTURES[name]!;
  const p = createResponseProcessor(exchange(meta), { status: 200, headers: { 'content-type': meta.contentType } }, { client: eng.session(), record: eng.session() });
  const client: Buffer[] = [];
  const record: Buffer[] = [];
  for (const c of randomChunks(body, seed, 48)) {
    const o = await p.push(c);
    client.push(o.client);
    record.push(o.record);
  }
  const o = await p.end();
  client.push(o.client);
  record.push(o.record);
  return { client: Buffer.concat(client).toString('utf8'), record: Buffer.concat(record).toString('utf8') };
}

for (const name of Object.keys(BODIES)) {
  t.test(name, async (t) => {
    let runs = 0;
    let bad = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const body = Buffer.from(BODIES[name]!(seed, seed % 3 === 0));
      const out = await run(name, body, seed);
      runs++;
      for (const [side, text] of Object.entries(out)) {
        for (const [rule, secret] of Object.entries(SECRETS)) {
          const left = leftOf(text, secret);
          if (left) bad++, t.fail(`seed ${seed} ${side}: ${rule} left "${left}"`);
          if (!text.includes(`[MASKED:${rule}#`)) bad++, t.fail(`seed ${seed} ${side}: no ${rule} placeholder`);
        }
      }
    }
    t.equal(bad, 0, `${runs} runs: every secret masked whole on the client and in the record`);
  });
}
