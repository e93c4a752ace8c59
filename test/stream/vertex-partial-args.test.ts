// Vertex AI can stream a Gemini function call's arguments in pieces (streamFunctionCallArguments):
// parts[].functionCall.partialArgs[] {jsonPath, stringValue, willContinue}. A secret split across those pieces
// must be masked as one string, whatever the network chunking, and released at the argument's end, at the
// call's last piece, at finishReason or at EOF.
import t from 'tap';
import { createResponseProcessor } from '../../src/stream/index.js';
import { ALL_SECRETS, engine, longestSecretRun, randomChunks } from './helpers.js';

const KEY = ALL_SECRETS[0]!;
const PATH = '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-3-pro-preview:streamGenerateContent?alt=sse';

const ev = (parts: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }], modelVersion: 'gemini-3-pro-preview' })}\r\n\r\n`;
const piece = (jsonPath: string, stringValue: string, willContinue?: boolean) => ({ jsonPath, stringValue, ...(willContinue === undefined ? {} : { willContinue }) });

async function run(body: string, seed: number): Promise<{ client: string; record: string }> {
  const eng = engine();
  const p = createResponseProcessor({ method: 'POST', host: 'us-central1-aiplatform.googleapis.com', path: PATH, requestHeaders: {} }, { status: 200, headers: { 'content-type': 'text/event-stream' } }, { client: eng.session(), record: eng.session() });
  const c: Buffer[] = [];
  const r: Buffer[] = [];
  const b = Buffer.from(body);
  for (const chunk of seed ? randomChunks(b, seed, 30) : [b]) {
    const o = await p.push(chunk);
    c.push(o.client);
    r.push(o.record);
  }
  const o = await p.end();
  c.push(o.client);
  r.push(o.record);
  t.equal(p.adapter, 'gemini');
  return { client: Buffer.concat(c).toString(), record: Buffer.concat(r).toString() };
}

/** Joins the streamed pieces per jsonPath, in order, from an SSE body. */
function args(sse: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const block of sse.split(/\r?\n\r?\n/)) {
    const line = block.split(/\r?\n/).find((l) => l.startsWith('data:'));
    if (!line) continue;
    const j = JSON.parse(line.slice(5));
    for (const part of j.candidates?.[0]?.content?.parts ?? []) {
      for (const pa of part.functionCall?.partialArgs ?? []) if (typeof pa.stringValue === 'string') out[pa.jsonPath] = (out[pa.jsonPath] ?? '') + pa.stringValue;
    }
  }
  return out;
}

const cut = [KEY.slice(0, 9), KEY.slice(9, 27), KEY.slice(27)];

t.test('pieces ended by willContinue:false, in every chunking', async (t) => {
  const body = [
    ev([{ functionCall: { name: 'write_file', willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.path', '.env', false)], willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.content', `OPENAI_API_KEY=${cut[0]}`, true)], willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.content', cut[1]!, true)], willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.content', `${cut[2]}\n`, false)], willContinue: true } }]),
    ev([{ functionCall: {} }]),
    ev([], { finishReason: 'STOP' }),
  ].join('');
  for (const seed of [0, 1, 2, 3, 7, 11]) {
    const o = await run(body, seed);
    t.equal(longestSecretRun(o.client).length < 6, true, `client, seed ${seed}: ${longestSecretRun(o.client).run}`);
    t.equal(longestSecretRun(o.record).length < 6, true, `record, seed ${seed}`);
    t.same(args(o.client), { '$.path': '.env', '$.content': 'OPENAI_API_KEY=[MASKED:openai-api-key#1]\n' }, `the pieces join to the masked argument (seed ${seed})`);
  }
});

t.test('held text released at the call\'s last piece, at finishReason and at EOF', async (t) => {
  const start = [
    ev([{ functionCall: { name: 'write_file', willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.content', `k=${cut[0]}`, true)], willContinue: true } }]),
    ev([{ functionCall: { partialArgs: [piece('$.content', cut[1]!, true)], willContinue: true } }]),
  ].join('');
  const ends = {
    'last piece': ev([{ functionCall: {} }]) + ev([], { finishReason: 'STOP' }),
    finishReason: ev([], { finishReason: 'STOP' }),
    EOF: '',
  };
  for (const [name, end] of Object.entries(ends)) {
    const o = await run(start + ev([{ functionCall: { partialArgs: [piece('$.content', cut[2]!, true)], willContinue: true } }]) + end, 5);
    t.equal(longestSecretRun(o.client).length < 6, true, `${name}: no secret`);
    t.same(args(o.client), { '$.content': 'k=[MASKED:openai-api-key#1]' }, `${name}: the held text is released`);
  }
});
