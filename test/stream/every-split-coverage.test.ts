// The every-split files together cover every fixture (a fixture swept in parts: every part).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { FIXTURES } from './helpers.js';

t.test('every fixture is swept', async (t) => {
  const dir = new URL('.', import.meta.url).pathname;
  const listed = [1, 2, 3, 4, 5].map((i) => readFileSync(`${dir}every-split-${i}.test.ts`, 'utf8')).join('\n');
  for (const name of Object.keys(FIXTURES)) {
    const lines = listed.split('\n').filter((l) => l.includes(`'${name}'`));
    t.ok(lines.length > 0, name);
    const parts = lines.map((l) => /of: (\d+)/.exec(l)?.[1]).filter(Boolean);
    if (parts.length) t.equal(parts.length, Number(parts[0]), `${name}: all ${parts[0]} parts swept`);
  }
});
