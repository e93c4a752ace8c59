// The decoded fields of every SSE/NDJSON fixture (test/fixtures/sse/expected.json) through the
// masker: the fixture secrets, and the key cut off by the error event, never survive, and every
// chunking (the fixtures' own secret pieces, every split point, one char at a time) gives the
// whole-text result.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createMaskEngine } from '../../src/mask/index.js';
import { leak } from './corpus/evaluate.js';
import { rng } from './corpus/rng.js';

interface FileExpect {
  text: string;
  thinking?: string;
  toolArguments: { arguments: string }[];
  secrets: string[];
  secretPieces?: string[];
  partialSecretAtEnd?: string;
}
const expected = JSON.parse(readFileSync(new URL('../fixtures/sse/expected.json', import.meta.url), 'utf8')) as {
  secrets: Record<string, string>;
  files: Record<string, FileExpect>;
};
const ALL = Object.values(expected.secrets);
const engine = createMaskEngine();

function stream(parts: string[]): string {
  const m = engine.session().stream();
  let out = '';
  for (const p of parts) out += m.push(p);
  return out + m.flush();
}

/** Splits text so that each secret arrives in the fixture's pieces, the rest in random chunks. */
function piecewise(text: string, pieces: string[], seed: number): string[] {
  const secret = pieces.join('');
  const at = text.indexOf(secret);
  const r = rng(seed);
  const random = (s: string) => {
    const out: string[] = [];
    for (let i = 0; i < s.length; ) {
      const l = 1 + r.int(12);
      out.push(s.slice(i, i + l));
      i += l;
    }
    return out;
  };
  if (at < 0 || !secret) return random(text);
  return [...random(text.slice(0, at)), ...pieces, ...random(text.slice(at + secret.length))];
}

for (const [file, f] of Object.entries(expected.files)) {
  const fields: [string, string][] = [['text', f.text]];
  if (f.thinking) fields.push(['thinking', f.thinking]);
  f.toolArguments.forEach((a, i) => fields.push([`tool ${i}`, a.arguments]));
  t.test(file, async (t) => {
    for (const [name, value] of fields) {
      if (!value) continue;
      const secrets = [...ALL, ...(f.partialSecretAtEnd ? [f.partialSecretAtEnd] : [])];
      const whole = engine.session().maskText(value).text;
      const l = leak(value, whole, secrets);
      t.equal(l, null, `${name}: no 6-character run of a secret survives`);
      if (ALL.some((s) => value.includes(s)) || (f.partialSecretAtEnd && value.includes(f.partialSecretAtEnd))) t.match(whole, /\[MASKED:[a-z0-9-]+#\d+\]/, `${name}: shows a placeholder`);
      t.equal(stream(piecewise(value, f.secretPieces ?? [], 7)), whole, `${name}: the fixture's own pieces`);
      let bad = 0;
      for (let k = 1; k < value.length; k++) if (stream([value.slice(0, k), value.slice(k)]) !== whole) bad++;
      t.equal(bad, 0, `${name}: every split point`);
      t.equal(stream([...value]), whole, `${name}: one character at a time`);
    }
  });
}

t.test('request bodies stay valid JSON with the prompt masked', async (t) => {
  const key = expected.secrets.openai_project_key_fake!;
  const body = JSON.stringify({
    model: 'gpt-4.1-mini',
    stream: true,
    messages: [{ role: 'user', content: `Show a minimal OpenAI client in TypeScript with my key ${key} inline.` }],
  });
  const r = engine.session().maskText(body);
  const parsed = JSON.parse(r.text) as { messages: { content: string }[] };
  t.equal(parsed.messages[0]!.content, 'Show a minimal OpenAI client in TypeScript with my key [MASKED:openai-api-key#1] inline.');
  t.same(r.findings, [{ rule: 'openai-api-key', placeholder: '[MASKED:openai-api-key#1]' }]);
});
