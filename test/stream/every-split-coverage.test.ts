// The three every-split files together cover every fixture.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { FIXTURES } from './helpers.js';

t.test('every fixture is swept', async (t) => {
  const dir = new URL('.', import.meta.url).pathname;
  const listed = [1, 2, 3].map((i) => readFileSync(`${dir}every-split-${i}.test.ts`, 'utf8')).join('\n');
  for (const name of Object.keys(FIXTURES)) t.ok(listed.includes(`'${name}'`), name);
});
