// Engine options: placeholder template, allow-listed values, custom rules from policy.
import t, { type Test } from 'tap';
import { createMaskEngine, CustomRuleError, type MaskEngine } from '../../src/mask/index.js';

const KEY = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const OTHER = 'sk-proj-Zb9Yx8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0GfEdCbA';

function allSplits(t: Test, e: MaskEngine, text: string): string {
  const whole = e.session().maskText(text).text;
  let bad = 0;
  for (let k = 0; k <= text.length; k++) {
    const m = e.session().stream();
    if (m.push(text.slice(0, k)) + m.push(text.slice(k)) + m.flush() !== whole) bad++;
  }
  const m = e.session().stream();
  let one = '';
  for (const ch of text) one += m.push(ch);
  t.equal(bad, 0, 'every split point gives the whole-text result');
  t.equal(one + m.flush(), whole, 'one character at a time too');
  return whole;
}

t.test('placeholder template', async (t) => {
  const e = createMaskEngine({ placeholder: '<redacted {rule} {n}>' });
  t.equal(e.session().maskText(`a ${KEY} b ${OTHER} c ${KEY}`).text, 'a <redacted openai-api-key 1> b <redacted openai-api-key 2> c <redacted openai-api-key 1>');
  const plain = createMaskEngine({ placeholder: '***' });
  t.equal(plain.session().maskText(`x=${KEY}`).text, 'x=***');
});

t.test('numbering is per rule and shared by the streams of a session', async (t) => {
  const s = createMaskEngine().session();
  const a = s.stream();
  const b = s.stream();
  const outA = a.push(`key ${KEY} and AKIA2E0A8F3B244C9986 `) + a.flush();
  const outB = b.push(`again ${KEY}, new ${OTHER} `) + b.flush();
  t.equal(outA, 'key [MASKED:openai-api-key#1] and [MASKED:aws-access-key-id#1] ');
  t.equal(outB, 'again [MASKED:openai-api-key#1], new [MASKED:openai-api-key#2] ');
  t.same(b.findings, [
    { rule: 'openai-api-key', placeholder: '[MASKED:openai-api-key#1]' },
    { rule: 'openai-api-key', placeholder: '[MASKED:openai-api-key#2]' },
  ]);
  t.notMatch(JSON.stringify([a.findings, b.findings]), /FAKEt3|Zb9Yx8|2E0A8F3B/, 'findings never carry the secret');
  const other = createMaskEngine().session();
  t.equal(other.maskText(OTHER).text, '[MASKED:openai-api-key#1]', 'a new session numbers from 1');
});

t.test('allow-listed values are left alone, also when they commit early', async (t) => {
  const e = createMaskEngine({ allow: [KEY, 'hunter2abc'] });
  const text = `apiKey: "${KEY}"\nother: "${OTHER}"\npassword=hunter2abc\npassword=hunter3abc\n`;
  const out = allSplits(t, e, text);
  t.equal(out, `apiKey: "${KEY}"\nother: "[MASKED:openai-api-key#1]"\npassword=hunter2abc\npassword=[MASKED:generic-password#1]\n`);
  t.equal(e.session().maskText(KEY + 'X').text, '[MASKED:openai-api-key#1]', 'a longer token is not the allowed value');
});

t.test('custom rules', async (t) => {
  const e = createMaskEngine({
    customRules: [
      { name: 'corp-employee-id', regex: 'EMP-[0-9]{6}' },
      { name: 'corp-db-pass', regex: '[A-Za-z0-9]{12}', keyword: 'corp_db' },
      { name: 'corp-ticket-secret', regex: 'tkt:([a-f0-9]{16})' },
    ],
    allow: ['EMP-000000'],
  });
  const text = [
    'employee EMP-123456 and EMP-000000 and EMP-12345',
    'corp_db host=x user Ab3De5Gh7Jk9 ok',
    'no keyword here Ab3De5Gh7Jk9',
    'ticket tkt:0123456789abcdef done',
    `built-in still works: ${KEY}`,
  ].join('\n');
  const out = allSplits(t, e, text);
  t.equal(
    out,
    [
      'employee [MASKED:corp-employee-id#1] and EMP-000000 and EMP-12345',
      'corp_db host=x user [MASKED:corp-db-pass#1] ok',
      'no keyword here Ab3De5Gh7Jk9',
      'ticket tkt:[MASKED:corp-ticket-secret#1] done',
      'built-in still works: [MASKED:openai-api-key#1]',
    ].join('\n'),
  );
  const m = e.session().stream();
  t.equal(m.push('see EMP-12'), 'see ', 'the current word is held');
  t.equal(m.held, 6);
  t.equal(m.push('3456 ok') + m.flush(), '[MASKED:corp-employee-id#1] ok');
});

t.test('bad custom rules are refused with a clear error', async (t) => {
  t.throws(() => createMaskEngine({ customRules: [{ name: 'x', regex: '(' }] }), CustomRuleError);
  t.throws(() => createMaskEngine({ customRules: [{ name: 'x', regex: 'a*' }] }), { message: /empty string/ });
  t.throws(() => createMaskEngine({ customRules: [{ name: 'Bad Name', regex: 'a' }] }), { message: /lower-case/ });
});
