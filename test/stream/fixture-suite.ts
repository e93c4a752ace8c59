// The fixture suite, shared by the splits-*.test.ts files (split so tap can run them in parallel).
import type { Test } from 'tap';
import { EXPECTED, FIXTURES, bytewise, checkOutput, fixture, parseOutput, randomChunks, run, splitAt } from './helpers.js';

export async function fixtureSuite(t: Test, names: string[]): Promise<void> {
  for (const name of names) {
    await t.test(name, async (t) => {
      const body = fixture(name);
      const base = await run(name, [body]);
      t.equal(base.adapter, FIXTURES[name]!.api, 'adapter chosen from path and payload');
      t.same(checkOutput(name, base.client), [], 'client output: valid events, text rebuilt, secrets masked, text released at end signals');
      t.same(checkOutput(name, base.record), [], 'record output passes the same checks');
      t.ok(base.findings > 0, 'findings reported');
      const expEvents = EXPECTED.files[name]!.expectedEvents;
      if (expEvents !== undefined) t.equal(parseOutput(base.client, FIXTURES[name]!.api).length, expEvents, 'event count');

      // Every split point, on the record lane (the client lane runs the same adapter code on its own
      // session; it is compared at every 7th split point, one byte at a time and in random chunkings,
      // which keeps this sweep affordable on a shared machine).
      const mismatches: number[] = [];
      for (let k = 0; k <= body.length; k++) {
        const both = k % 7 === 0;
        const r = await run(name, splitAt(body, k), { clientOff: !both });
        if (!r.record.equals(base.record) || (both && !r.client.equals(base.client))) mismatches.push(k);
      }
      t.same(mismatches.slice(0, 10), [], `identical output at all ${body.length + 1} split points`);

      const one = await run(name, bytewise(body));
      t.ok(one.client.equals(base.client) && one.record.equals(base.record), 'identical output one byte at a time');
      const events = parseOutput(base.client, FIXTURES[name]!.api).length;
      t.ok(one.pushes > events / 2, 'output flows while the stream is read, not only at the end');

      const bad: number[] = [];
      for (let seed = 1; seed <= 30; seed++) {
        const r = await run(name, randomChunks(body, seed, seed % 3 === 0 ? 7 : seed % 3 === 1 ? 64 : 700));
        if (!r.client.equals(base.client) || !r.record.equals(base.record)) bad.push(seed);
      }
      t.same(bad, [], 'identical output for 30 random chunkings');

      const off = await run(name, randomChunks(body, 99, 100), { clientOff: true });
      t.ok(off.client.equals(body), 'client masking off: the client gets the raw bytes');
      t.ok(off.record.equals(base.record), 'client masking off: the record is still masked');
    });
  }
}
