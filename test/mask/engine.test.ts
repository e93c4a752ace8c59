import t from 'tap';
import { createMaskEngine, RULES } from '../../src/mask/index.js';

const OPENAI = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const AWS_ID = 'AKIA2E0A8F3B244C9986';

t.test('catalog has at least 60 named rules', async (t) => {
  t.ok(RULES.length >= 60, `${RULES.length} rules`);
  t.equal(new Set(RULES.map((r) => r.name)).size, RULES.length, 'names are unique');
  for (const r of RULES) t.match(r.name, /^[a-z0-9][a-z0-9-]*$/);
});

t.test('fixture secrets are masked, same secret same placeholder', async (t) => {
  const s = createMaskEngine().session();
  const r = s.maskText(`apiKey: "${OPENAI}" and again ${OPENAI}\nAWS_ACCESS_KEY_ID=${AWS_ID}\n`);
  t.equal(r.text, 'apiKey: "[MASKED:openai-api-key#1]" and again [MASKED:openai-api-key#1]\nAWS_ACCESS_KEY_ID=[MASKED:aws-access-key-id#1]\n');
  t.same(r.findings.map((f) => f.rule), ['openai-api-key', 'openai-api-key', 'aws-access-key-id']);
  const other = s.maskText('sk-proj-Zb9Yx8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0GfEdCbA');
  t.equal(other.text, '[MASKED:openai-api-key#2]', 'the next distinct secret gets #2');
  t.equal(s.maskText(OPENAI).text, '[MASKED:openai-api-key#1]', 'numbering lasts for the session');
});

t.test('streamed output equals whole-text output for every split', async (t) => {
  const e = createMaskEngine();
  const text = `const client = new OpenAI({\n  apiKey: "${OPENAI}",\n});\n{"content": "AWS_ACCESS_KEY_ID=${AWS_ID}\\n"}`;
  const want = e.session().maskText(text).text;
  for (let k = 0; k <= text.length; k++) {
    const m = e.session().stream();
    const got = m.push(text.slice(0, k)) + m.push(text.slice(k)) + m.flush();
    if (got !== want) t.fail(`split at ${k}: ${got}`);
  }
  const m = e.session().stream();
  let got = '';
  for (const ch of text) got += m.push(ch);
  got += m.flush();
  t.equal(got, want, 'one character at a time');
  t.notMatch(want, /FAKEt3|2E0A8F3B/);
});

t.test('flush releases everything and leaves nothing held', async (t) => {
  const m = createMaskEngine().session().stream();
  t.equal(m.push('token: "abc'), '');
  t.ok(m.held > 0, 'a candidate is held');
  t.equal(m.flush(), 'token: "abc');
  t.equal(m.held, 0);
  t.equal(m.push(' and more\n'), ' and more\n', 'the channel can go on after an end signal');
  t.equal(m.flush(), '');
});

t.test('the current word is held until it ends (it may still become a suffix-marked secret)', async (t) => {
  const m = createMaskEngine().session().stream();
  t.equal(m.push('The license key is Ab3dEf'), 'The license key is ', 'a word at the end of a chunk waits');
  t.equal(m.push(' and'), 'Ab3dEf ', 'released as soon as it ends');
  const key = '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';
  const out = m.push(' also ' + key.slice(0, 20)) + m.push(key.slice(20) + ' ok') + m.flush();
  t.equal(out, 'and also [MASKED:maxmind-license-key#1] ok', 'the whole key, head included, is masked');
});
