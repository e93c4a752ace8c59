import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { openAuditLog, verifyStore, readPublicKeys, verifyBundleFile, parseVerifier } from '../../src/audit/index.js';
import { openCheckpoint } from '../../src/audit/note.js';
import { openDb } from '../../src/audit/store.js';
import { editEntry } from './store-edit.js';
import { quiet, tempDirs } from './helpers.js';
import { writeFileSync } from 'node:fs';

const DAY = 86_400_000;

t.test('retention prunes old bodies, keeps records; verify reports pruned bodies and passes', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, retentionDays: 7 });
  for (let i = 0; i < 30; i++) await log.append({ session: 'old', kind: 'chunk', meta: { i }, body: Buffer.from(`old ${i}`) });
  await log.endSession('old');
  t.same(await log.prune(), { prunedBefore: 0, previous: 0 }, 'nothing is older than 7 days yet');
  const res = await log.prune(Date.now() + 8 * DAY);
  t.equal(res.prunedBefore, 31, 'everything so far is older than the cut');
  let newFirst = -1;
  for (let i = 0; i < 5; i++) {
    const r = await log.append({ session: 'new', kind: 'chunk', meta: { i }, body: Buffer.from(`new ${i}`) });
    if (i === 0) newFirst = r.seq;
  }

  const old = await log.reader.sessionRecords('old');
  t.equal(old.length, 31, 'records stay');
  t.ok(old.slice(0, 30).every((r) => r.body === null && r.bodyPruned && r.bodyHash !== null), 'bodies gone, marked pruned, hashes kept');
  t.same((await log.reader.sessionRecords('new'))[0]!.body, Buffer.from('new 0'));
  const retention = (await log.reader.listSessions()).find((s) => s.session.startsWith('wiretrail-retention-'));
  t.ok(retention, 'the pruning itself is recorded');
  const rr = await log.reader.sessionRecords(retention!.session);
  t.equal(rr[0]!.kind, 'retention');
  t.same(rr[0]!.meta.prunedBefore, 31);

  let v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.prunedBodies, 30);
  t.equal(v.prunedBefore, 31);

  const out = join(root, 'b.ndjson');
  const chunks: Buffer[] = [];
  for await (const c of log.reader.exportBundle({})) chunks.push(c);
  writeFileSync(out, Buffer.concat(chunks));
  const b = await verifyBundleFile(out, readPublicKeys(certsDir));
  t.equal(b.ok, true, b.problem?.message ?? 'bundle verifies');
  t.equal(b.prunedBodies, 30);
  await log.close();

  // A body deleted above the retention cut is not "pruned": it is missing.
  const db = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await editEntry(db, newFirst, (e) => ({ ...e, body: null }));
  await db.close();
  const db2 = await openDb(dataDir, { create: false });
  v = await verifyStore(db2, { trusted: readPublicKeys(certsDir) });
  await db2.close();
  t.equal(v.problem?.kind, 'missing');
  t.match(v.problem?.message, /^missing: the body of seq \d+ is missing/);
});

t.test('key rotation: old checkpoints still verify with the kept public keys', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'rot.test/log' });
  for (let i = 0; i < 10; i++) await log.append({ session: 'a', kind: 'chunk', meta: { i } });
  await log.checkpointNow();
  const firstKey = readPublicKeys(certsDir)[0]!;
  const newKey = await log.rotateKey();
  t.not(newKey.text, firstKey.text);
  t.equal(statSync(join(certsDir, 'audit-log.key')).mode & 0o777, 0o600, 'new key is 0600');
  t.notOk(readFileSync(join(certsDir, 'audit-log.key'), 'utf8').includes(firstKey.keyHash.toString('hex')), 'the old private key is gone');
  for (let i = 0; i < 10; i++) await log.append({ session: 'a', kind: 'chunk', meta: { i: i + 10 } });
  const cp = await log.checkpointNow();
  t.equal(openCheckpoint(cp!.note, [newKey]).verifiedBy.length, 1, 'new checkpoints carry the new key');
  t.equal(readPublicKeys(certsDir).length, 2, 'the keyring keeps both public keys');
  const v = await log.reader.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'verifies');
  t.equal(v.signers.length, 2, 'both keys signed checkpoints');
  await log.close();

  // With only the new key, the old checkpoints cannot be vouched for.
  const db = await openDb(dataDir, { create: false });
  const only = await verifyStore(db, { trusted: [parseVerifier(newKey.text)] });
  await db.close();
  t.equal(only.problem?.kind, 'unknown key', 'the old key was not given');

  // Reopening keeps using the rotated key.
  const again = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'rot.test/log' });
  await again.append({ session: 'b', kind: 'connect', meta: {} });
  const cp2 = await again.checkpointNow();
  t.equal(openCheckpoint(cp2!.note, [newKey]).verifiedBy.length, 1);
  await again.close();
});

t.test('checkpoints go to a witness file and a witness URL', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'POST' && req.headers['content-type']?.startsWith('text/plain')) got.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/witness`;
  const file = join(root, 'witness', 'latest');
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, checkpointIntervalMs: 50, witness: { file, url } });
  for (let i = 0; i < 5; i++) await log.append({ session: 'w', kind: 'chunk', meta: { i } });
  await log.close();
  const keys = readPublicKeys(certsDir);
  const fromFile = openCheckpoint(readFileSync(file, 'utf8'), keys);
  t.equal(fromFile.size, 5);
  t.equal(fromFile.verifiedBy.length, 1);
  t.ok(got.length >= 1, 'the witness URL received checkpoints');
  t.equal(openCheckpoint(got[got.length - 1]!, keys).size, 5, 'the last one covers the whole log');
  t.equal(readFileSync(join(dataDir, 'checkpoints', 'latest'), 'utf8'), got[got.length - 1]);
});
