// The transcript's answer reassembly against the shared provider fixtures (written apart from our
// parsers): every file, fed in uneven chunks, rebuilds expected.json's text and tool calls.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reassembleAnswer, type RecordedChunk } from '../../src/transcript/index.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'sse');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  files: Record<string, { api: string; format: string; text: string; toolArguments: Array<{ name: string; arguments: string }> }>;
};

const apiOf = (api: string) => (api.startsWith('openai-chat') ? 'openai-chat' : api.startsWith('gemini') ? 'gemini' : api);

/** Splits a body into chunks of varying sizes, 1 ms apart. */
function chunked(body: Buffer, sizes: number[]): RecordedChunk[] {
  const out: RecordedChunk[] = [];
  let at = 1000;
  for (let i = 0, k = 0; i < body.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push({ at: at++, body: body.subarray(i, i + n) });
    i += n;
  }
  return out;
}

for (const [file, exp] of Object.entries(expected.files)) {
  t.test(file, async (t) => {
    const body = readFileSync(join(dir, file));
    const framing = exp.format.startsWith('ndjson') ? 'ndjson' : 'sse';
    for (const sizes of [[body.length], [1], [7, 3, 50]]) {
      const a = reassembleAnswer(apiOf(exp.api), framing, chunked(body, sizes), 1000);
      const text = a.turns.filter((x) => x.role === 'assistant').map((x) => x.text).join('');
      t.equal(text, exp.text, `text with chunk sizes ${sizes.join(',')}`);
      const tools = a.turns.filter((x) => x.role === 'tool-call');
      t.same(tools.map((x) => x.name), exp.toolArguments.map((x) => x.name), 'tool call names');
      for (const [i, tc] of exp.toolArguments.entries()) if (tc.arguments) t.equal(tools[i]?.text, tc.arguments, `arguments of ${tc.name}`);
      t.equal(a.replay.map((s) => s.text).join('').replace(/\n\[tool [^\]]+\] /g, ''), text + tools.map((x) => x.text).join(''), 'replay steps add up to the answer');
      t.ok(a.replay.every((s, i) => i === 0 || s.atMs >= a.replay[i - 1]!.atMs), 'replay times never go back');
    }
  });
}
