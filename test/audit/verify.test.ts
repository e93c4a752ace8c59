import t from 'tap';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { openAuditLog } from '../../src/audit/index.js';
import { verifyStore, readExternalCheckpoints } from '../../src/audit/verify.js';
import { openDb } from '../../src/audit/store.js';
import { readPublicKeys } from '../../src/audit/signing-key.js';
import { quiet, tempDirs } from './helpers.js';
import { blockOf, editEntry, truncateFrom, writeBlock } from './store-edit.js';

async function build(dataDir: string, certsDir: string) {
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log', checkpointEveryRecords: 100 });
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      ['a', 'b', 'c'].map(async (s) => {
        for (let i = 0; i < 40; i++) {
          await log.append({ session: `${s}${round}`, kind: 'chunk', meta: { i, at: 1700000000000 + i }, body: Buffer.from(`chunk ${s} ${i}`) });
        }
        await log.endSession(`${s}${round}`);
      }),
    );
  }
  await log.append({ session: 'open1', kind: 'connect', meta: { identity: { kind: 'oidc', subject: 'u', groups: [], attributes: {} } } });
  await log.close();
}

async function verifyDir(dataDir: string, certsDir: string) {
  const external = await readExternalCheckpoints(dataDir);
  const db = await openDb(dataDir, { create: false });
  try {
    return await verifyStore(db, { trusted: readPublicKeys(certsDir), external });
  } finally {
    await db.close();
  }
}

t.test('an untouched log verifies', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const r = await verifyDir(dataDir, certsDir);
  t.equal(r.problem, null);
  t.equal(r.ok, true);
  t.equal(r.records, 3 * 3 * 41 + 1);
  t.equal(r.sessions, 10);
  t.equal(r.openSessions, 1);
  t.equal(r.bodies, 3 * 3 * 40);
  t.ok(r.checkpoints >= 4);
  t.equal(r.unsignedTail, 0);
  t.equal(r.latestCheckpoint!.size, r.records);
  t.same(r.external.map((x) => x.size), [r.records]);
});

const K = (p: string, n: number) => `${p}/${n.toString(16).padStart(16, '0')}`;

async function withDb(dataDir: string, fn: (db: Level<string, Buffer>) => Promise<void>) {
  const db = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

t.test('tamper suite: each change is detected with the right message', async (t) => {
  const { root, dataDir: pristine, certsDir } = tempDirs(t);
  await build(pristine, certsDir);
  let n = 0;
  const fresh = () => {
    const d = join(root, `case${n++}`);
    cpSync(pristine, d, { recursive: true });
    return d;
  };
  const expectProblem = async (name: string, d: string, kind: string, seq: number | null, re: RegExp) => {
    const r = await verifyDir(d, certsDir);
    t.equal(r.ok, false, `${name}: detected`);
    t.equal(r.problem?.kind, kind, `${name}: kind (${r.problem?.message})`);
    if (seq !== null) t.equal(r.problem?.seq, seq, `${name}: first bad seq`);
    t.match(r.problem?.message ?? '', re, `${name}: message`);
    rmSync(d, { recursive: true, force: true });
  };

  let d = fresh();
  await withDb(d, async (db) => {
    await editEntry(db, 50, (e) => {
      const at = e.record.indexOf('"i":') + 4;
      e.record[at] = e.record[at] === 0x31 ? 0x32 : 0x31;
      return e;
    });
  });
  await expectProblem('modify a record', d, 'modified', 50, /^modified: record seq 50 /);

  d = fresh();
  await withDb(d, async (db) => {
    await editEntry(db, 60, (e) => {
      e.body![0] = e.body![0]! ^ 1;
      return e;
    });
  });
  await expectProblem('modify a body', d, 'modified', 60, /body of seq 60/);

  d = fresh();
  await withDb(d, (db) => editEntry(db, 70, () => null));
  await expectProblem('delete a record', d, 'missing', 70, /^missing: record seq 70 is missing/);

  d = fresh();
  let swapAt = -1;
  await withDb(d, async (db) => {
    // Two neighbours in one block.
    for (let s = 80; swapAt < 0; s++) {
      const b = await blockOf(db, s);
      if (s + 1 < b.first + b.entries.length) {
        swapAt = s;
        const i = s - b.first;
        const entries = [...b.entries];
        [entries[i], entries[i + 1]] = [entries[i + 1]!, entries[i]!];
        await writeBlock(db, b.key, entries);
      }
    }
  });
  await expectProblem('swap two records', d, 'reordered', swapAt, new RegExp(`^reordered: the record stored at seq ${swapAt} carries seq ${swapAt + 1}`));

  d = fresh();
  await withDb(d, (db) => truncateFrom(db, 300));
  await expectProblem('truncate the tail', d, 'truncated', 300, /^truncated: the log ends at seq 299/);

  d = fresh();
  await withDb(d, async (db) => {
    // A careful truncation also drops the later checkpoints and fixes the tiles: the copy outside the store still catches it.
    await truncateFrom(db, 300);
    await db.clear({ gte: K('c', 300), lt: 'c0' });
  });
  await expectProblem('truncate the tail and its checkpoints', d, 'truncated', 300, /rolled back or truncated: it holds 300 records but the signed checkpoint in .*checkpoints\/latest covers 370/);

  let cpKey = '';
  d = fresh();
  await withDb(d, async (db) => {
    const [key, v] = (await db.iterator({ gte: 'c/', lt: 'c0', limit: 2 }).all())[1]!;
    cpKey = key;
    const bad = v.toString().replace(/\u2014 (\S+) (\S+)/, (_m, name, sig: string) => `\u2014 ${name} ${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`);
    await db.put(key, Buffer.from(bad));
  });
  await expectProblem('corrupt a checkpoint signature', d, 'bad signature', null, new RegExp(`checkpoint ${parseInt(cpKey.slice(2), 16)}: signature by .* does not verify \\(signature invalid\\)`));
});

t.test('tamper suite: history rewritten and re-signed with another key', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  // The forger rebuilds a whole consistent log with one changed record and signs it with their own key.
  const forged = join(root, 'forged');
  const forgedCerts = join(root, 'forged-certs');
  const log = await openAuditLog({ dataDir: forged, certsDir: forgedCerts, logger: quiet, origin: 'test.local/log', checkpointEveryRecords: 100 });
  for (let i = 0; i < 370; i++) await log.append({ session: `f${i % 7}`, kind: 'chunk', meta: { i } });
  await log.close();
  rmSync(join(dataDir, 'log'), { recursive: true });
  cpSync(join(forged, 'log'), join(dataDir, 'log'), { recursive: true });
  const r = await verifyDir(dataDir, certsDir);
  t.equal(r.ok, false);
  t.equal(r.problem?.kind, 'unknown key');
  t.equal(r.problem?.seq, 0);
  t.match(r.problem?.message, /^unknown key: checkpoint \d+ \(size \d+\) is signed by a key you did not give me \(key id test\.local\/log\+[0-9a-f]{8}\)/);

  // Even with the forger's checkpoint copied outside too, the forged key is not trusted.
  cpSync(join(forged, 'checkpoints'), join(dataDir, 'checkpoints'), { recursive: true });
  const r2 = await verifyDir(dataDir, certsDir);
  t.equal(r2.problem?.kind, 'unknown key');
});

t.test('tamper suite: store rolled back to an earlier state', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  const witness = join(root, 'witness', 'checkpoint');
  const open = () => openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'test.local/log', witness: { file: witness } });
  let log = await open();
  for (let i = 0; i < 50; i++) await log.append({ session: 'early', kind: 'chunk', meta: { i } });
  await log.close();
  const early = join(root, 'early');
  cpSync(dataDir, early, { recursive: true });
  log = await open();
  for (let i = 0; i < 50; i++) await log.append({ session: 'late', kind: 'chunk', meta: { i } });
  await log.close();
  t.equal((await verifyDir(dataDir, certsDir)).ok, true, 'intact before the rollback');

  // Roll the store back, keeping <data>/checkpoints/latest.
  rmSync(join(dataDir, 'log'), { recursive: true });
  cpSync(join(early, 'log'), join(dataDir, 'log'), { recursive: true });
  let r = await verifyDir(dataDir, certsDir);
  t.equal(r.problem?.kind, 'truncated');
  t.equal(r.problem?.seq, 50);
  t.match(r.problem?.message, /rolled back or truncated: it holds 50 records but the signed checkpoint in .*latest covers 101/);

  // Roll back the whole data folder: only the witness copy still knows.
  rmSync(dataDir, { recursive: true });
  cpSync(early, dataDir, { recursive: true });
  t.equal((await verifyDir(dataDir, certsDir)).ok, true, 'without a witness the rollback of everything is invisible');
  const external = await readExternalCheckpoints(dataDir, [witness]);
  const db = await openDb(dataDir, { create: false });
  r = await verifyStore(db, { trusted: readPublicKeys(certsDir), external });
  await db.close();
  t.equal(r.problem?.kind, 'truncated');
  t.match(r.problem?.message, /witness\/checkpoint covers 101/);
});

t.test('tamper suite: a fork (same key, other history) is caught by the outside checkpoint', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  const other = join(root, 'other');
  for (const [d, tag] of [[dataDir, 'x'], [other, 'y']] as const) {
    const log = await openAuditLog({ dataDir: d, certsDir, logger: quiet, origin: 'test.local/log' });
    for (let i = 0; i < 20; i++) await log.append({ session: 's', kind: 'chunk', meta: { tag, i } });
    await log.close();
  }
  cpSync(join(other, 'checkpoints'), join(dataDir, 'checkpoints'), { recursive: true });
  const r = await verifyDir(dataDir, certsDir);
  t.equal(r.problem?.kind, 'fork');
  t.match(r.problem?.message, /^fork: the log at size 20 disagrees with the signed checkpoint in/);
});
