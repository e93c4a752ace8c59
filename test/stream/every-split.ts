// Every fixture through the whole processor (both lanes), split in two at EVERY byte offset k, must give exactly
// the unsplit output (whose text, validity and absence of secrets the other fixture tests check).
// The exhaustive form of what fixture-suite.ts samples; spread over three files so they run in parallel.
import t from 'tap';
import { fixture, run, splitAt } from './helpers.js';

export function everySplit(names: string[]): void {
  for (const name of names) {
    t.test(`${name}: every split point`, async (t) => {
      const body = fixture(name);
      const base = await run(name, [body]);
      const bad: number[] = [];
      for (let k = 0; k <= body.length; k++) {
        const r = await run(name, splitAt(body, k));
        if (!r.client.equals(base.client) || !r.record.equals(base.record)) bad.push(k);
      }
      t.same(bad, [], `${body.length + 1} split points, identical output`);
    });
  }
}
