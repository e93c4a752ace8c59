// Exhaustive sweep (npx tsx test/stream/sweep.ts [fixture…]): every fixture through the whole
// processor, both lanes, split in two at every byte offset k, compared with the unsplit run.
// About three CPU-minutes; the suite covers the same ground more cheaply (see fixture-suite.ts).
import { FIXTURES, fixture, run, splitAt } from './helpers.js';

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(FIXTURES);
let failed = 0;
for (const name of names) {
  const body = fixture(name);
  const base = await run(name, [body]);
  const bad: number[] = [];
  const t0 = process.cpuUsage();
  for (let k = 0; k <= body.length; k++) {
    const r = await run(name, splitAt(body, k));
    if (!r.client.equals(base.client) || !r.record.equals(base.record)) bad.push(k);
  }
  const cpu = process.cpuUsage(t0);
  console.log(`${name}: ${body.length + 1} split points, ${bad.length} mismatches${bad.length ? ` (first at ${bad.slice(0, 5).join(', ')})` : ''}, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
  if (bad.length) failed++;
}
process.exit(failed ? 1 : 0);
