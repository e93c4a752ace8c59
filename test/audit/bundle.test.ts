// Bundle format 2: records share multi-leaf inclusion proofs. An attacker can recompute the trailer
// hash (it has no key), so every check here rewrites the trailer: only the proofs and the signature
// stand between an edited bundle and "ok". Format 1 bundles (a proof per record) still verify.
import t from 'tap';
import { createHash } from 'node:crypto';
import { openAuditLog, verifyBundleStream, type AuditLog } from '../../src/audit/index.js';
import { canonicalBytes } from '../../src/audit/record.js';
import { inclusionProof, leafHash, nodeHash, splitPoint, EMPTY_ROOT } from '../../src/audit/merkle.js';
import { quiet, tempDirs } from './helpers.js';

async function bundleOf(log: AuditLog, filter: object): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of log.reader.exportBundle(filter)) parts.push(c);
  return Buffer.concat(parts);
}

const linesOf = (b: Buffer) => b.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The bundle from these lines with a correct trailer, as an attacker would rebuild it. */
function rebuild(lines: Record<string, unknown>[]): Buffer {
  const body = lines.slice(0, -1).map((l) => Buffer.concat([canonicalBytes(l), Buffer.from('\n')]));
  const digest = createHash('sha256');
  body.forEach((b) => digest.update(b));
  const count = lines.filter((l) => l.type === 'record').length;
  return Buffer.concat([...body, canonicalBytes({ type: 'end', records: count, sha256: digest.digest('hex') }), Buffer.from('\n')]);
}

const check = async (b: Buffer, keys: Parameters<typeof verifyBundleStream>[1]) => verifyBundleStream((async function* () { yield b; })(), keys);

t.test('format 2: shared proofs verify; edits that keep the trailer right still fail', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'bundle.test/log' });
  t.teardown(() => log.close());
  const body = (s: string, i: number) => Buffer.from(`data: {"choices":[{"delta":{"content":"${s} token ${i}"}}]}\n\n`);
  // 8 interleaved sessions of 600 records: more than one proof line for the whole log.
  for (let s = 0; s < 8; s++) log.appendSync({ session: `s${s}`, kind: 'connect', meta: { identity: { kind: 'token', subject: `user${s % 4}`, groups: [], attributes: {} } as never } });
  for (let i = 0; i < 600; i++) for (let s = 0; s < 8; s++) log.appendSync({ session: `s${s}`, kind: 'chunk', meta: { at: 1700000000000 + i }, body: body(`s${s}`, i) });
  const keys = await log.reader.publicKeys();

  const whole = await bundleOf(log, {});
  const lines = linesOf(whole);
  t.equal(lines[0]!.version, 2);
  const proofLines = lines.filter((l) => l.type === 'proof');
  t.equal(proofLines.length, 2, '4,808 records: two proof lines of at most 4,096');
  let r = await check(whole, keys);
  t.equal(r.ok, true, r.problem?.message ?? 'whole log verifies');
  t.equal(r.records, 8 * 601);
  const recordBytes = lines.filter((l) => l.type === 'record').reduce((n, l) => n + Buffer.byteLength(l.record as string) + (l.body ? Buffer.from(l.body as string, 'base64').length : 0), 0);
  t.ok(whole.length <= 2 * recordBytes, `bundle ${whole.length} bytes for ${recordBytes} bytes of records and bodies (${(whole.length / recordBytes).toFixed(2)}x)`);

  const user = await bundleOf(log, { user: 'user1' });
  r = await check(user, keys);
  t.equal(r.ok, true, r.problem?.message ?? "a user's sessions verify (interleaved: proofs over scattered leaves)");
  t.equal(r.records, 2 * 601);

  // Edits, each with the trailer recomputed.
  const u = linesOf(user);
  const recIdx = u.findIndex((l) => l.type === 'record');
  const edits: [string, (ls: Record<string, unknown>[]) => Record<string, unknown>[], RegExp][] = [
    [
      'the last record changed (nothing chains to it: only the proof can tell)',
      (ls) => ls.map((l, i) => (i === ls.length - 2 ? { ...l, record: (l.record as string).replace(/"at":\d+/, '"at":1') } : l)),
      /modified: records seq \d+\.\.\d+ are not in the signed log/,
    ],
    ['a record dropped (proof count lowered)', (ls) => ls.filter((_, i) => i !== recIdx + 5).map((l) => (l.type === 'proof' ? { ...l, records: (l.records as number) - 1 } : l)), /modified: records seq .* not in the signed log/],
    [
      "another session's record slipped in",
      (ls) => {
        const foreign = lines.find((l) => l.type === 'record' && (l.record as string).includes('"session":"s2"'))!;
        return ls.flatMap((l, i) => (i === recIdx + 1 ? [l, foreign] : [l])).map((l) => (l.type === 'proof' ? { ...l, records: (l.records as number) + 1 } : l));
      },
      /modified: records seq .* not in the signed log/,
    ],
    ['a record line without its proof line', (ls) => ls.filter((l) => l.type !== 'proof'), /modified: line 2: a record without a proof line/],
    ['a proof line short of records', (ls) => ls.map((l) => (l.type === 'proof' ? { ...l, records: (l.records as number) + 1 } : l)), /truncated: the bundle ends 1 records short/],
  ];
  for (const [what, edit, want] of edits) {
    const res = await check(rebuild(edit(u)), keys);
    t.equal(res.ok, false, what);
    t.match(res.problem?.message, want, what);
  }
});

t.test('format 1 bundles (an inclusion proof per record) still verify', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'bundle.test/v1' });
  t.teardown(() => log.close());
  for (let i = 0; i < 300; i++) log.appendSync({ session: `s${i % 3}`, kind: 'chunk', meta: { i }, body: Buffer.from(`chunk ${i}`) });
  const keys = await log.reader.publicKeys();
  const v2 = linesOf(await bundleOf(log, { session: 's1' }));
  // The format-1 bundle of the same records, built the way version 1 wrote it.
  const all = linesOf(await bundleOf(log, {})).filter((l) => l.type === 'record');
  const leaves = all.map((l) => leafHash(Buffer.from(l.record as string)));
  const mth = async (a: number, b: number): Promise<Buffer> => (b - a === 0 ? EMPTY_ROOT : b - a === 1 ? leaves[a]! : nodeHash(await mth(a, a + splitPoint(b - a)), await mth(a + splitPoint(b - a), b)));
  const size = v2[0]!.treeSize as number;
  const v1: Record<string, unknown>[] = [{ ...v2[0]!, version: 1 }];
  for (const l of v2.filter((x) => x.type === 'record')) {
    const seq = JSON.parse(l.record as string).seq as number;
    v1.push({ ...l, proof: (await inclusionProof(seq, size, mth)).map((p) => p.toString('hex')) });
  }
  v1.push({ type: 'end' });
  let r = await check(rebuild(v1), keys);
  t.equal(r.ok, true, r.problem?.message ?? 'a format-1 bundle verifies');
  t.equal(r.records, 100);
  const bad = v1.map((l, i) => (i === 4 ? { ...l, proof: (l.proof as string[]).map((p, j) => (j === 0 ? p.replace(/^./, (c) => (c === '0' ? '1' : '0')) : p)) } : l));
  r = await check(rebuild(bad), keys);
  t.match(r.problem?.message, /modified: record seq \d+ is not in the signed log \(its inclusion proof fails\)/, 'and its proofs are still checked');
});
