import t from 'tap';
import { createHash } from 'node:crypto';
import {
  leafHash,
  nodeHash,
  rootOfLeaves,
  inclusionProof,
  consistencyProof,
  verifyInclusion,
  verifyConsistency,
  EMPTY_ROOT,
  multiInclusionProof,
  rootFromMultiInclusion,
} from '../../src/audit/merkle.js';
import type { JsonObject } from '../../src/audit/types.js';
import { TreeFrontier, rangeHashFromTiles, unpackTile, type TileWrite } from '../../src/audit/tree.js';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

/** Builds a frontier over n leaves and a tile store holding what the writer would have stored. */
function build(n: number) {
  const f = new TreeFrontier();
  const tiles = new Map<string, Buffer[]>();
  const ls = leaves(n);
  const store = (w: TileWrite[]) => w.forEach((x) => tiles.set(`${x.level}/${x.index}`, unpackTile(Buffer.from(x.data))!));
  ls.forEach((l, i) => {
    f.append(l);
    if (i % 37 === 0) store(f.takeWrites()); // batches of varying size
  });
  store(f.takeWrites());
  const mth = rangeHashFromTiles(async (level, index) => tiles.get(`${level}/${index}`) ?? null);
  return { f, ls, mth };
}

t.test('RFC 9162 hashing matches the definition', async (t) => {
  t.equal(EMPTY_ROOT.toString('hex'), createHash('sha256').digest('hex'));
  t.same(leafHash(Buffer.from('x')), createHash('sha256').update(Buffer.from([0])).update('x').digest());
  const a = leafHash(Buffer.from('a'));
  const b = leafHash(Buffer.from('b'));
  t.same(nodeHash(a, b), createHash('sha256').update(Buffer.from([1])).update(a).update(b).digest());
  t.same(rootOfLeaves([a, b, a]), nodeHash(nodeHash(a, b), a));
});

t.test('tile frontier roots equal the reference MTH for many sizes', async (t) => {
  const sizes = [1, 2, 3, 5, 8, 255, 256, 257, 511, 512, 513, 1000, 65536 + 300];
  for (const n of sizes) {
    const { f, ls, mth } = build(n);
    const ref = rootOfLeaves(ls);
    t.same(f.root(), ref, `frontier root at ${n}`);
    t.same(await mth(0, n), ref, `tile range root at ${n}`);
  }
});

t.test('inclusion and consistency proofs verify, and fail when altered', async (t) => {
  const n = 1300;
  const { ls, mth } = build(n);
  for (const size of [1, 2, 7, 256, 257, 999, 1300]) {
    const root = rootOfLeaves(ls.slice(0, size));
    for (const i of [0, 1, Math.floor(size / 2), size - 1]) {
      if (i >= size) continue;
      const p = await inclusionProof(i, size, mth);
      t.ok(verifyInclusion(i, size, ls[i]!, p, root), `inclusion ${i}/${size}`);
      if (size > 1) {
        t.notOk(verifyInclusion(i, size, ls[(i + 1) % size]!, p, root), 'wrong leaf fails');
        const bad = p.map((h) => Buffer.from(h));
        bad[0]![3] = bad[0]![3]! ^ 1;
        t.notOk(verifyInclusion(i, size, ls[i]!, bad, root), 'altered proof fails');
      }
    }
  }
  for (const [m, s] of [[1, 2], [3, 7], [4, 8], [256, 257], [300, 1300], [1024, 1300], [1299, 1300]] as const) {
    const p = await consistencyProof(m, s, mth);
    const r1 = rootOfLeaves(ls.slice(0, m));
    const r2 = rootOfLeaves(ls.slice(0, s));
    t.ok(verifyConsistency(m, s, p, r1, r2), `consistency ${m}->${s}`);
    t.notOk(verifyConsistency(m, s, p, r2, r1), 'swapped roots fail');
  }
});

t.test('multi-leaf proofs (bundle format 2) lead to the root for any set of leaves, and to nothing else', async (t) => {
  const n = 1300;
  const { ls, mth } = build(n);
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
  for (const size of [1, 2, 3, 256, 257, 999, 1300]) {
    const root = rootOfLeaves(ls.slice(0, size));
    const sets: number[][] = [[0], [size - 1], [...Array(size).keys()], [...Array(Math.min(size, 40)).keys()].map((i) => size - 1 - i).reverse()];
    for (let k = 0; k < 6; k++) sets.push([...new Set(Array.from({ length: 1 + rnd(Math.min(size, 50)) }, () => rnd(size)))].sort((a, b) => a - b));
    for (const idx of sets) {
      const proof = await multiInclusionProof(idx, size, mth);
      const leafs = idx.map((i) => ls[i]!);
      t.same(rootFromMultiInclusion(idx, size, leafs, proof), root, `${idx.length} leaves of ${size}: ${proof.length} hashes`);
      if (idx.length === size) t.equal(proof.length, 0, 'every leaf: no hash needed');
      if (size > 1 && idx.length < size) {
        const bad = proof.map((h) => Buffer.from(h));
        bad[bad.length - 1] = Buffer.from(bad[bad.length - 1]!.map((x, j) => (j === 0 ? x ^ 1 : x)));
        t.notSame(rootFromMultiInclusion(idx, size, leafs, bad), root, 'an altered hash fails');
        t.equal(rootFromMultiInclusion(idx, size, leafs, proof.slice(1)), null, 'a hash short fails');
        t.equal(rootFromMultiInclusion(idx, size, leafs, [...proof, proof[0]!]), null, 'a hash too many fails');
        const other = leafs.map((l, i) => (i === 0 ? ls[(idx[0]! + 1) % size]! : l));
        if (!(idx.length > 1 && idx[1] === (idx[0]! + 1) % size)) t.notSame(rootFromMultiInclusion(idx, size, other, proof), root, 'another leaf fails');
      }
    }
  }
  // A run of consecutive leaves costs about two hashes per level (a compact range), not a path each.
  const run = [...Array(500).keys()].map((i) => i + 400);
  t.ok((await multiInclusionProof(run, n, mth)).length <= 2 * 11, 'a run of 500 leaves: at most two hashes per level');
  t.throws(() => rootFromMultiInclusion([3, 3], n, [ls[3]!, ls[3]!], []), /sorted, distinct/);
});

t.test('the fast record encoder is RFC 8785 (equals canonicalize) and values round-trip', async (t) => {
  const { encodeRecord } = await import('../../src/audit/record.js');
  const { encodeEntry, decodeBlock, stripBodies } = await import('../../src/audit/value.js');
  const canonicalize = (await import('canonicalize')).default;
  const metas: JsonObject[] = [
    {},
    { at: 1, z: 'é', a: [1, { y: null, b: true }] },
    { '\u00e9': 'x', e: '\u2028 "q" \\ \n', emoji: '😀', n: -5 },
    { b: true, a: null, '😀': 1, '\uffff': 'x', Z: false, '\u0000k': 0, at: 1700000000000 },
  ];
  for (const [i, meta] of metas.entries()) {
    const r = {
      v: 1,
      origin: 'wiretrail.local/h/log',
      seq: 12345 + i,
      ts: 1700000000000,
      session: i ? 'sé"ss\\ion' : 's',
      sessionSeq: i,
      sessionPrev: i ? 'ab'.repeat(32) : null,
      kind: 'chunk' as const,
      meta,
      bodyHash: i === 1 ? null : 'cd'.repeat(32),
    };
    t.equal(encodeRecord(r).toString('utf8'), canonicalize(r), `record ${i}`);
  }
  const { encodeSummary } = await import('../../src/audit/session-state.js');
  for (const users of [[], ['a@x.test', 'u1'], ['é"\\', '😀']]) {
    const s = { session: users.length ? 'sé"ss\\ion' : 's', firstSeq: 7, lastSeq: 99, count: 12, firstTs: 1700000000000, lastTs: 1700000000999, ended: users.length > 0, lastHash: 'ab'.repeat(32), users };
    t.equal(encodeSummary(s).toString('utf8'), canonicalize(s), `summary with ${users.length} users`);
  }
  const rec = Buffer.from('{"x":1}');
  const block = Buffer.concat([encodeEntry(41, rec, Buffer.from('body')), encodeEntry(null, rec, undefined), encodeEntry(7, rec, new Uint8Array(0))]);
  t.same(decodeBlock(100, block), [
    { seq: 100, prev: 41, record: rec, body: Buffer.from('body') },
    { seq: 101, prev: null, record: rec, body: null },
    { seq: 102, prev: 7, record: rec, body: Buffer.alloc(0) },
  ]);
  t.same(decodeBlock(100, stripBodies(100, block, 101)).map((e) => e.body), [null, null, Buffer.alloc(0)], 'retention strips bodies below the cut only');
  // The writer's block builder: text written in place, leaf hash taken in place, one buffer (grows past its estimate).
  const { BlockBuilder } = await import('../../src/audit/value.js');
  const { leafHashHex } = await import('../../src/audit/merkle.js');
  const bb = new BlockBuilder(10);
  const texts = ['{"a":"é😀"}', '{"b":1}', 'x'.repeat(3000)];
  const leaves = [bb.add(41, texts[0]!, Buffer.from('body')), bb.add(null, texts[1]!, undefined), bb.add(7, texts[2]!, new Uint8Array(0))];
  t.same(
    decodeBlock(100, bb.finish()).map((e) => [e.prev, e.record.toString('utf8'), e.body]),
    [
      [41, texts[0], Buffer.from('body')],
      [null, texts[1], null],
      [7, texts[2], Buffer.alloc(0)],
    ],
  );
  t.same(leaves, texts.map((x) => leafHashHex(Buffer.from(x))), 'leaf hashes taken in place');
  t.throws(() => decodeBlock(0, Buffer.from([1, 0, 0])));
  t.throws(() => decodeBlock(0, block.subarray(0, block.length - 1)));
});
