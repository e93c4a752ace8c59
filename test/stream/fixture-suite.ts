// The fixture suite, shared by the splits-*.test.ts files (split so tap can run them in parallel).
//
// Chunking invariance is checked at every split point k, at two levels:
// - framing: the decoded events of [0,k),[k,n) are identical to the unsplit run, for every k;
// - the whole processor (decoder, framing, adapters, masking, both lanes): every k is a chunk
//   boundary in one of STRIDE runs (boundaries at r, r+STRIDE, …), and every k next to a line end,
//   a multi-byte character or the BOM gets its own two-chunk [0,k),[k,n) run; plus one byte at a
//   time and random chunkings.
// The processor is deterministic in the event sequence (adapters never see chunk boundaries), so
// this equals a two-chunk processor run at every k at a tenth of the CPU. That exhaustive run is
// test/stream/sweep.ts (npx tsx test/stream/sweep.ts), kept out of the suite because it costs
// about three CPU-minutes on a shared two-core machine.
import type { Test } from 'tap';
import { NdjsonParser, SseParser, type SseItem } from '../../src/stream/index.js';
import { EXPECTED, FIXTURES, bytewise, checkOutput, fixture, parseOutput, randomChunks, run, splitAt } from './helpers.js';

const STRIDE = 61;

type Frame = string | SseItem;

/** Framing-level items (events / lines) of the body fed in the given pieces. */
function frame(api: string, pieces: Buffer[]): Frame[] {
  if (api === 'ollama-chat') {
    const p = new NdjsonParser();
    return [...pieces.flatMap((x) => p.push(x)), ...p.end()];
  }
  const p = new SseParser();
  return [...pieces.flatMap((x) => p.push(x)), ...p.end().items];
}

function sameFrame(a: Frame, b: Frame): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'event': {
      const x = a.event;
      const y = (b as typeof a).event;
      return x.data === y.data && x.event === y.event && x.id === y.id && x.lastEventId === y.lastEventId;
    }
    case 'comment':
      return a.text === (b as typeof a).text;
    case 'retry':
      return a.ms === (b as typeof a).ms;
    case 'id':
      return a.id === (b as typeof a).id;
  }
}

function* strided(body: Buffer, offset: number): Generator<Buffer> {
  let start = 0;
  for (let k = offset; k < body.length; k += STRIDE) {
    yield body.subarray(start, k);
    start = k;
  }
  yield body.subarray(start);
}

/** Split points where framing state is delicate: around line ends, multi-byte characters, the start. */
export function delicateSplits(body: Buffer): number[] {
  const out: number[] = [];
  for (let k = 0; k <= body.length; k++) {
    let hit = k <= 4;
    for (let j = k - 2; j <= k + 1 && !hit; j++) {
      const b = body[j];
      if (b === 10 || b === 13 || (b !== undefined && b >= 0x80)) hit = true;
    }
    if (hit) out.push(k);
  }
  return out;
}

export async function fixtureSuite(t: Test, names: string[]): Promise<void> {
  for (const name of names) {
    await t.test(name, async (t) => {
      const meta = FIXTURES[name]!;
      const body = fixture(name);
      const base = await run(name, [body]);
      t.equal(base.adapter, meta.api, 'adapter chosen from path and payload');
      t.same(checkOutput(name, base.client), [], 'client output: valid events, text rebuilt, secrets masked, text released at end signals');
      t.same(checkOutput(name, base.record), [], 'record output passes the same checks');
      t.ok(base.client.equals(base.record), 'client and record lanes (fresh sessions of one engine) agree byte for byte');
      t.ok(base.findings > 0, 'findings reported');
      const expEvents = EXPECTED.files[name]!.expectedEvents;
      if (expEvents !== undefined) t.equal(parseOutput(base.client, meta.api).length, expEvents, 'event count');

      const baseFrames = frame(meta.api, [body]);
      const badFrames: number[] = [];
      for (let k = 0; k <= body.length; k++) {
        const f = frame(meta.api, [body.subarray(0, k), body.subarray(k)]);
        if (f.length !== baseFrames.length || f.some((x, i) => !sameFrame(x, baseFrames[i]!))) badFrames.push(k);
      }
      t.same(badFrames.slice(0, 10), [], `identical events at all ${body.length + 1} split points`);

      const badStride: number[] = [];
      for (let r = 1; r <= STRIDE; r++) {
        const o = await run(name, strided(body, r));
        if (!o.client.equals(base.client) || !o.record.equals(base.record)) badStride.push(r);
      }
      t.same(badStride, [], `identical output with every split point a chunk boundary (${STRIDE} strided runs)`);

      const delicate = delicateSplits(body);
      const badSplits: number[] = [];
      for (const k of delicate) {
        const o = await run(name, splitAt(body, k));
        if (!o.client.equals(base.client) || !o.record.equals(base.record)) badSplits.push(k);
      }
      t.same(badSplits.slice(0, 10), [], `identical output for [0,k),[k,n) at the ${delicate.length} split points next to line ends and multi-byte characters`);

      const one = await run(name, bytewise(body));
      t.ok(one.client.equals(base.client) && one.record.equals(base.record), 'identical output one byte at a time');
      const events = parseOutput(base.client, meta.api).length;
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
