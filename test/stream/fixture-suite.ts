// The fixture suite, shared by the splits-*.test.ts files (split so tap can run them in parallel).
import type { Test } from 'tap';
import { EXPECTED, FIXTURES, bytewise, checkOutput, fixture, parseOutput, randomChunks, run, splitAt } from './helpers.js';

/**
 * Runs every check on each fixture. `part` spreads one fixture's split sweep over several test
 * files (split points k with k % of === index), so no single file runs for minutes; the other
 * checks run in part 0 only.
 */
export async function fixtureSuite(t: Test, names: string[], part = { index: 0, of: 1 }): Promise<void> {
  for (const name of names) {
    await t.test(part.of > 1 ? `${name} (split points ${part.index} mod ${part.of})` : name, async (t) => {
      const body = fixture(name);
      const base = await run(name, [body]);
      if (part.index > 0) {
        const mismatches: number[] = [];
        for (let k = part.index; k <= body.length; k += part.of) {
          const r = await run(name, splitAt(body, k), { clientOff: true });
          if (!r.record.equals(base.record)) mismatches.push(k);
        }
        t.same(mismatches.slice(0, 10), [], `identical output at the split points ${part.index} mod ${part.of}`);
        return;
      }
      t.equal(base.adapter, FIXTURES[name]!.api, 'adapter chosen from path and payload');
      t.same(checkOutput(name, base.client), [], 'client output: valid events, text rebuilt, secrets masked, text released at end signals');
      t.same(checkOutput(name, base.record), [], 'record output passes the same checks');
      t.ok(base.findings > 0, 'findings reported');
      const expEvents = EXPECTED.files[name]!.expectedEvents;
      if (expEvents !== undefined) t.equal(parseOutput(base.client, FIXTURES[name]!.api).length, expEvents, 'event count');

      // Every split point, through the whole processor on the record lane. The client lane runs the
      // same adapter code on its own session and is compared one byte at a time and in random
      // chunkings below; running it at every split too would double the cost of the sweep.
      const mismatches: number[] = [];
      for (let k = 0; k <= body.length; k += part.of) {
        const r = await run(name, splitAt(body, k), { clientOff: true });
        if (!r.record.equals(base.record)) mismatches.push(k);
      }
      t.same(mismatches.slice(0, 10), [], part.of > 1 ? `identical output at the split points 0 mod ${part.of}` : `identical output at all ${body.length + 1} split points`);

      const one = await run(name, bytewise(body));
      t.ok(one.client.equals(base.client) && one.record.equals(base.record), 'identical output one byte at a time');
      const events = parseOutput(base.client, FIXTURES[name]!.api).length;
      t.ok(one.pushes > events / 2, 'output flows while the stream is read, not only at the end');

      const bad: number[] = [];
      for (let seed = 1; seed <= 12; seed++) {
        const r = await run(name, randomChunks(body, seed, seed % 3 === 0 ? 7 : seed % 3 === 1 ? 64 : 700));
        if (!r.client.equals(base.client) || !r.record.equals(base.record)) bad.push(seed);
      }
      t.same(bad, [], 'identical output for 12 random chunkings');

      const off = await run(name, randomChunks(body, 99, 100), { clientOff: true });
      t.ok(off.client.equals(body), 'client masking off: the client gets the raw bytes');
      t.ok(off.record.equals(base.record), 'client masking off: the record is still masked');
    });
  }
}
