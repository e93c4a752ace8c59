// Which key verify/export trust: --key pins exactly the given keys; without it the log's own certs
// folder (recorded in the data folder at start) is used, never silently a foreign ./certs. Failures
// tell "signed by a key you did not give me (key id …)" apart from "signature invalid".
import t from 'tap';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { openAuditLog, readKeyRecord, readPublicKeys, KEY_RECORD_FILE } from '../../src/audit/index.js';
import { canonicalBytes } from '../../src/audit/record.js';
import { quiet, tempDirs } from './helpers.js';
import { runHere } from './cli-helpers.js';

const ORIGIN = 'keys.test/log';

async function build(dataDir: string, certsDir: string, sessions = 3) {
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: ORIGIN, checkpointEveryRecords: 20 });
  for (let s = 0; s < sessions; s++) {
    for (let i = 0; i < 15; i++) await log.append({ session: `s${s}`, kind: 'chunk', meta: { i }, body: Buffer.from(`chunk ${s}/${i}`) });
    await log.endSession(`s${s}`);
  }
  await log.close();
}

/** Runs the CLI in-process from another working folder (as an investigator would). */
async function runIn(cwd: string, args: string[]) {
  const back = process.cwd();
  process.chdir(cwd);
  try {
    return await runHere(args);
  } finally {
    process.chdir(back);
  }
}

t.test('the data folder records the certs folder and every key id that signed the log', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir, 1);
  const rec = readKeyRecord(dataDir)!;
  const first = readPublicKeys(certsDir)[0]!;
  t.equal(rec.certsDir, resolve(certsDir), 'absolute certs folder');
  t.same(rec.keyIds, [`${ORIGIN}+${first.keyHash.toString('hex')}`]);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: ORIGIN });
  const rotated = await log.rotateKey();
  await log.close();
  t.same(readKeyRecord(dataDir)!.keyIds, [`${ORIGIN}+${first.keyHash.toString('hex')}`, `${ORIGIN}+${rotated.keyHash.toString('hex')}`], 'rotation adds the new key id');
  // A data folder from before the record gets one at its next start.
  rmSync(join(dataDir, KEY_RECORD_FILE));
  await (await openAuditLog({ dataDir, certsDir, logger: quiet, origin: ORIGIN })).close();
  t.ok(readKeyRecord(dataDir), 'added at start when missing');
});

t.test('insider key swap: --key ORIGINAL.pub pins the original key', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const original = join(root, 'ORIGINAL.pub');
  copyFileSync(join(certsDir, 'audit-log.pub'), original);
  let r = await runHere(['verify', '--data', dataDir, '--key', original]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, `key: ${original} (given with --key; no other key is trusted)`);

  // The insider rebuilds the log with their own key and replaces the signing key and audit-log.pub.
  const forged = join(root, 'forged');
  const forgedCerts = join(root, 'forged-certs');
  await build(forged, forgedCerts, 2);
  rmSync(join(dataDir, 'log'), { recursive: true });
  cpSync(join(forged, 'log'), join(dataDir, 'log'), { recursive: true });
  cpSync(join(forged, 'checkpoints'), join(dataDir, 'checkpoints'), { recursive: true });
  for (const f of ['audit-log.key', 'audit-log.pub']) copyFileSync(join(forgedCerts, f), join(certsDir, f));
  const forgedId = `${ORIGIN}+${readPublicKeys(forgedCerts)[0]!.keyHash.toString('hex')}`;

  r = await runHere(['verify', '--data', dataDir, '--certs', certsDir]);
  t.equal(r.code, 0, 'unpinned, the replaced keyring vouches for the forgery (why --key exists)');
  for (const args of [['--certs', certsDir, '--key', original], ['--key', original]]) {
    r = await runHere(['verify', '--data', dataDir, ...args]);
    t.equal(r.code, 1, `--key ORIGINAL.pub with ${args.join(' ')} fails`);
    t.match(r.stderr, 'wiretrail verify: FAILED: unknown key: the checkpoint in ');
    t.match(r.stderr, `is signed by a key you did not give me (key id ${forgedId})`);
  }
  r = await runHere(['verify', '--data', dataDir, '--key', original, '--json']);
  t.equal(JSON.parse(r.stdout).problem.kind, 'unknown key');
  t.same(JSON.parse(r.stdout).key, { source: original, reason: 'given with --key; no other key is trusted' }, '--json names the key too');
});

t.test('an honest log verified from a folder with a foreign ./certs', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const elsewhere = join(root, 'investigator');
  await build(join(elsewhere, 'other-data'), join(elsewhere, 'certs'), 1); // another instance's ./certs
  const data = resolve(dataDir);

  let r = await runIn(elsewhere, ['verify', '--data', data]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^ok: 48 records in 3 sessions/);
  t.equal(r.stderr, `key: ${resolve(certsDir, 'audit-log.pub')} (the certs folder this log was started with, recorded in ${join(data, KEY_RECORD_FILE)})\n`);

  // Export takes the same key, so the bundle verifies with the log's key.
  const bundle = join(root, 'b.ndjson');
  r = await runIn(elsewhere, ['export', '--data', data, '--out', bundle]);
  t.equal(r.code, 0, r.stderr);
  r = await runHere(['verify-bundle', bundle, '--key', join(certsDir, 'audit-log.pub')]);
  t.equal(r.code, 0, r.stderr);

  // Without the record (a data folder from before it existed), ./certs is used and said so; the
  // failure names the key id that signed instead of a bare "bad signature".
  rmSync(join(dataDir, KEY_RECORD_FILE));
  const logId = `${ORIGIN}+${readPublicKeys(certsDir)[0]!.keyHash.toString('hex')}`;
  r = await runIn(elsewhere, ['verify', '--data', data]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^key: \S+investigator\/certs\/audit-log\.pub \(default (\.|\S+investigator)\/certs: \S+audit-key\.json does not exist/);
  t.match(r.stderr, `unknown key: the checkpoint in ${join(data, 'checkpoints', 'latest')} (size 48) is signed by a key you did not give me (key id ${logId})`);
  r = await runIn(elsewhere, ['export', '--data', data, '--out', join(root, 'c.ndjson')]);
  t.equal(r.code, 1, 'no bundle with another instance\'s keys');
  t.match(r.stderr, `signed by a key you did not give me (key id ${logId})`);

  // The recorded certs folder gone: fall back to ./certs, saying why.
  writeFileSync(join(dataDir, KEY_RECORD_FILE), JSON.stringify({ version: 1, certsDir: join(root, 'gone'), keyIds: [logId] }));
  r = await runIn(elsewhere, ['verify', '--data', data]);
  t.equal(r.code, 1);
  t.match(r.stderr, /\(default (\.|\S+investigator)\/certs: the certs folder recorded in \S+ \(\S+gone\) has no audit-log\.pub; it does not hold the key this log recorded \(key id keys\.test\/log\+[0-9a-f]{8}\)\)/);
});

t.test('"signature invalid" is told apart from "a key you did not give me"', async (t) => {
  const { dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const db = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  const [key, v] = (await db.iterator({ gte: 'c/', lt: 'c0', limit: 1 }).all())[0]!;
  await db.put(key, Buffer.from(v.toString().replace(/\u2014 (\S+) (\S{10})(\S)/, (_m, n: string, a: string, c: string) => `\u2014 ${n} ${a}${c === 'A' ? 'B' : 'A'}`)));
  await db.close();
  const r = await runHere(['verify', '--data', dataDir, '--json']);
  t.equal(r.code, 1);
  const p = JSON.parse(r.stdout).problem;
  t.equal(p.kind, 'bad signature');
  t.match(p.message, /signature by keys\.test\/log\+[0-9a-f]{8} does not verify \(signature invalid\)/);
});

t.test('verify-bundle: a key you did not give me vs an invalid signature', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir, 1);
  const bundle = join(root, 'b.ndjson');
  t.equal((await runHere(['export', '--data', dataDir, '--certs', certsDir, '--out', bundle])).code, 0);
  const other = tempDirs(t);
  await build(other.dataDir, other.certsDir, 1);
  let r = await runHere(['verify-bundle', bundle, '--key', join(other.certsDir, 'audit-log.pub')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /FAILED: unknown key: the bundle's checkpoint is signed by a key you did not give me \(key id keys\.test\/log\+[0-9a-f]{8}\)/);
  const text = readFileSync(bundle, 'utf8');
  const nl = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, nl)) as { checkpoint: string };
  header.checkpoint = header.checkpoint.replace(/\u2014 (\S+) (\S{10})(\S)/, (_m: string, n: string, a: string, c: string) => `\u2014 ${n} ${a}${c === 'A' ? 'B' : 'A'}`);
  const broken = join(root, 'broken.ndjson');
  writeFileSync(broken, canonicalBytes(header).toString('utf8') + text.slice(nl));
  r = await runHere(['verify-bundle', broken, '--key', join(certsDir, 'audit-log.pub')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /FAILED: bad signature: the bundle's checkpoint: signature by keys\.test\/log\+[0-9a-f]{8} does not verify \(signature invalid\)/);
  r = await runHere(['verify-bundle', bundle, '--key', join(certsDir, 'audit-log.pub')]);
  t.equal(r.code, 0, 'intact bundle, right key');
});
