// Property test: any single-byte change anywhere in the store (any key or value byte, or the
// checkpoint copy kept outside it) makes verify fail.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { openAuditLog } from '../../src/audit/index.js';
import { verifyStore } from '../../src/audit/verify.js';
import { readPublicKeys } from '../../src/audit/signing-key.js';
import { quiet, tempDirs } from './helpers.js';

// Small deterministic PRNG (mulberry32) so a failure can be replayed from the printed seed.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('1,000 random single-byte mutations of the store are all detected', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log', checkpointEveryRecords: 40, retentionDays: 1 });
  const id = { kind: 'oidc', subject: 'alice', email: 'alice@example.test', groups: ['dev'], attributes: {} };
  for (let i = 0; i < 60; i++) await log.append({ session: `s${i % 4}`, kind: i % 4 ? 'chunk' : 'request', meta: { i, identity: id }, body: Buffer.from(`body ${i}`) });
  await log.endSession('s0');
  // Retention prunes the first bodies (pretend ten days passed), then more traffic.
  await log.prune(Date.now() + 10 * 86_400_000);
  for (let i = 0; i < 60; i++) await log.append({ session: `t${i % 3}`, kind: 'chunk', meta: { i }, body: i % 5 ? Buffer.from(`late ${i}`) : undefined });
  await log.endSession('t1');
  await log.close();

  const latestPath = join(dataDir, 'checkpoints', 'latest');
  const latest = readFileSync(latestPath);
  const trusted = readPublicKeys(certsDir);
  const db = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open();
  t.teardown(() => db.close());
  const check = () => verifyStore(db, { trusted, external: [{ source: 'latest', note: readFileSync(latestPath, 'utf8') }] });

  const base = await check();
  t.equal(base.ok, true, `baseline verifies (${base.problem?.message ?? ''})`);
  t.ok(base.prunedBodies > 0, 'the store has pruned bodies');

  const entries = (await db.iterator().all()).map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v) }));
  // Units to mutate: every key, every value and the outside checkpoint; weighted by their bytes.
  type Unit = { kind: 'key' | 'value'; i: number } | { kind: 'latest' };
  const units: { unit: Unit; len: number }[] = [
    ...entries.flatMap((e, i) => [
      { unit: { kind: 'key', i } as Unit, len: e.key.length },
      { unit: { kind: 'value', i } as Unit, len: e.value.length },
    ]),
    { unit: { kind: 'latest' } as Unit, len: latest.length },
  ].filter((u) => u.len > 0);
  const totalBytes = units.reduce((a, u) => a + u.len, 0);

  const seed = Number(process.env.MUTATION_SEED ?? 20240601);
  const rand = rng(seed);
  const missed: string[] = [];
  const kinds = new Map<string, number>();
  const N = 1000;
  for (let n = 0; n < N; n++) {
    let pos = Math.floor(rand() * totalBytes);
    let u = units[0]!;
    for (const c of units) {
      if (pos < c.len) {
        u = c;
        break;
      }
      pos -= c.len;
    }
    const flip = 1 + Math.floor(rand() * 255);
    let label = '';
    let undo: () => Promise<void>;
    if (u.unit.kind === 'latest') {
      const m = Buffer.from(latest);
      m[pos] = m[pos]! ^ flip;
      writeFileSync(latestPath, m);
      label = `latest[${pos}]`;
      undo = async () => writeFileSync(latestPath, latest);
    } else {
      const e = entries[u.unit.i]!;
      const key = e.key.toString();
      if (u.unit.kind === 'value') {
        const v = Buffer.from(e.value);
        v[pos] = v[pos]! ^ flip;
        await db.put(key, v);
        label = `value of ${key} [${pos}]`;
        undo = () => db.put(key, e.value);
      } else {
        const k = Buffer.from(e.key);
        k[pos] = k[pos]! ^ flip;
        const newKey = k.toString('latin1');
        // Keys are utf8 strings: a flipped byte may not survive decoding; use latin1 to keep it a distinct key.
        const previous = await db.get(newKey);
        await db.batch([
          { type: 'del', key },
          { type: 'put', key: newKey, value: e.value },
        ]);
        label = `key ${key} -> ${JSON.stringify(newKey)}`;
        undo = async () => {
          await db.batch([
            previous === undefined ? { type: 'del', key: newKey } : { type: 'put', key: newKey, value: previous },
            { type: 'put', key, value: e.value },
          ]);
        };
      }
    }
    const r = await check();
    if (r.ok) missed.push(label);
    else kinds.set(r.problem!.kind, (kinds.get(r.problem!.kind) ?? 0) + 1);
    await undo();
  }
  t.same(missed, [], `all ${N} mutations detected (seed ${seed})`);
  t.comment(`detected as: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const after = await check();
  t.equal(after.ok, true, 'store verifies again after undoing the mutations');
});
