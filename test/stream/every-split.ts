// Every fixture through the whole processor (both lanes), split in two at EVERY byte offset k, must give exactly
// the unsplit output (whose text, validity and absence of secrets the other fixture tests check).
// The exhaustive form of what fixture-suite.ts samples; spread over several files so they run in
// parallel and each stays far below the per-file timeout (a fixture's cost grows with its size
// squared, so the largest is swept in interleaved parts: part i of n takes every n-th split point).
import t from 'tap';
import { fixture, run, splitAt } from './helpers.js';

export function everySplit(names: string[], part: { index: number; of: number } = { index: 0, of: 1 }): void {
  for (const name of names) {
    const label = part.of > 1 ? ` (part ${part.index + 1} of ${part.of})` : '';
    t.test(`${name}: every split point${label}`, async (t) => {
      const body = fixture(name);
      const base = await run(name, [body]);
      const bad: number[] = [];
      for (let k = part.index; k <= body.length; k += part.of) {
        const r = await run(name, splitAt(body, k));
        if (!r.client.equals(base.client) || !r.record.equals(base.record)) bad.push(k);
      }
      t.same(bad, [], `split points ${part.index} + ${part.of}·j up to ${body.length}: identical output`);
    });
  }
}
