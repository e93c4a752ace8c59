import t from 'tap';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { openAuditLog, verifyBundleFile, auditAdminRoutes } from '../../src/audit/index.js';
import { quiet, tempDirs } from './helpers.js';
import { runHere, spawnCli, adminServer } from './cli-helpers.js';
import { editEntry } from './store-edit.js';

const alice = { kind: 'oidc', subject: 'sub-alice', email: 'alice@example.test', groups: ['dev'], attributes: {} };
const bob = { kind: 'token', subject: 'token:bob', groups: [], attributes: {} };

async function build(dataDir: string, certsDir: string) {
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'cli.test/log', checkpointEveryRecords: 50 });
  const run = async (session: string, identity: object, n: number) => {
    await log.append({ session, kind: 'connect', meta: { target: 'api.openai.com:443', identity: identity as never } });
    await log.append({ session, kind: 'request', meta: { method: 'POST', path: '/v1/chat/completions', identity: identity as never }, body: Buffer.from('{"model":"gpt","stream":true}') });
    for (let i = 0; i < n; i++) await log.append({ session, kind: 'chunk', meta: { at: 1700000000000 + i }, body: Buffer.from(`data: {"delta":"word${i}"}\n\n`) });
    await log.append({ session, kind: 'response-end', meta: { status: 200 } });
    await log.endSession(session);
  };
  await Promise.all([run('sess-alice', alice, 40), run('sess-bob', bob, 30), run('sess-alice-2', alice, 5)]);
  await log.close();
}

t.test('verify, sessions, export and verify-bundle on a stopped proxy', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const base = ['--data', dataDir, '--certs', certsDir];

  let r = await runHere(['verify', ...base]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^ok: 87 records in 3 sessions \(0 open\); \d+ checkpoints verified; latest covers 87/);

  r = await runHere(['verify', ...base, '--json']);
  t.equal(JSON.parse(r.stdout).ok, true);

  r = await runHere(['sessions', 'list', '--data', dataDir]);
  t.equal(r.code, 0);
  t.match(r.stdout, /TIME\s+SESSION\s+USER\s+AGENT\s+HOST\s+MODEL\s+REQS\s+TOKENS\s+MASKED\s+DECISION/);
  t.match(r.stdout, /sess-alice\s+sub-alice\s/);
  r = await runHere(['sessions', 'list', '--data', dataDir, '--user', 'token:bob', '--json']);
  t.same(JSON.parse(r.stdout).map((s: { session: string }) => s.session), ['sess-bob']);

  r = await runHere(['sessions', 'show', 'sess-bob', '--data', dataDir, '--raw']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^session sess-bob: 34 records, ended/);
  t.match(r.stdout, /#2 seq \d+ \S+ chunk \{"at":1700000000000\}\n {4}data: \{"delta":"word0"\}/);
  r = await runHere(['sessions', 'show', 'nope', '--data', dataDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no session "nope"/);
  t.equal((await runHere(['sessions', 'bogus', '--data', dataDir])).code, 2, 'usage error');

  // Export one session, a user's sessions, a time window and everything; each verifies offline.
  const exports: [string[], number][] = [
    [['--session', 'sess-alice'], 44],
    [['--user', 'alice@example.test'], 44 + 9],
    [['--user', 'sub-alice', '--since', '0', '--until', String(Date.now() + 60_000)], 53],
    [[], 87],
  ];
  for (const [i, [args, n]] of exports.entries()) {
    const out = join(root, `bundle${i}.ndjson`);
    r = await runHere(['export', ...base, ...args, '--out', out]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, new RegExp(`^key: \\S+audit-log\\.pub \\(from --certs\\)\nwrote ${n} records`));
    r = await runHere(['verify-bundle', out, '--key', join(certsDir, 'audit-log.pub')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`^ok: ${n} records`));
    t.equal(r.stderr, '', 'no key note when --key is given');
  }
  const bundle = join(root, 'bundle0.ndjson');
  r = await runHere(['verify-bundle', bundle]);
  t.equal(r.code, 0);
  t.match(r.stderr, /checked against the public key inside the bundle/);
  t.equal((await runHere(['export', ...base, '--session', 'nope', '--out', join(root, 'x')])).code, 1);
  t.notOk(existsSync(join(root, 'x')), 'no partial bundle left behind');
  t.equal((await runHere(['export', ...base])).code, 2, '--out is required');

  r = await runHere(['export', '--public-key', '--certs', certsDir]);
  t.equal(r.code, 0);
  t.match(r.stdout, /^cli\.test\/log\+[0-9a-f]{8}\+\S+\n$/);

  // Another log's key does not vouch for this bundle.
  const other = tempDirs(t);
  const l2 = await openAuditLog({ dataDir: other.dataDir, certsDir: other.certsDir, logger: quiet, origin: 'cli.test/log' });
  await l2.close();
  r = await runHere(['verify-bundle', bundle, '--key', join(other.certsDir, 'audit-log.pub')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /FAILED: unknown key: the bundle's checkpoint is signed by a key you did not give me \(key id cli\.test\/log\+[0-9a-f]{8}\)/);

  // One byte changed anywhere in a bundle makes it fail.
  const orig = readFileSync(bundle);
  const changed = join(root, 'changed.ndjson');
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const missed: number[] = [];
  for (let i = 0; i < 300; i++) {
    const pos = Math.floor(rand() * orig.length);
    const m = Buffer.from(orig);
    m[pos] = m[pos]! ^ (1 + Math.floor(rand() * 255));
    writeFileSync(changed, m);
    if ((await verifyBundleFile(changed, [])).ok) missed.push(pos);
  }
  t.same(missed, [], '300 random one-byte changes of a bundle all fail');
  const m = Buffer.from(orig);
  const inBody = orig.indexOf('"body":"ZGF0') + 12; // inside a base64 body ("data: ...")
  m[inBody] = m[inBody] === 0x41 ? 0x42 : 0x41;
  writeFileSync(changed, m);
  r = await runHere(['verify-bundle', changed]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^wiretrail verify-bundle: FAILED at seq \d+: modified: the body of seq \d+ does not match/);

  // Tampering with the store: verify names the seq, through the real entry point (exit code 1).
  const db = new Level<string, Buffer>(join(dataDir, 'log'), { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await editEntry(db, 10, (e) => {
    const at = e.record.indexOf('"at":170') + 6;
    e.record[at] = e.record[at] === 0x30 ? 0x31 : 0x30;
    return e;
  });
  await db.close();
  const s = await spawnCli(['verify', ...base]);
  t.equal(s.code, 1);
  t.equal(s.stdout, '');
  t.match(s.stderr, /^key: \S+audit-log\.pub \(from --certs\)\nwiretrail verify: FAILED at seq 10: modified: record seq 10 /);
  t.equal(s.stderr.trim().split('\n').length, 2, 'the key line and one failure line');
});

t.test('against a running proxy: locked store, then through the admin API', async (t) => {
  const { root, dataDir, certsDir } = tempDirs(t);
  await build(dataDir, certsDir);
  const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'cli.test/log' });
  t.teardown(() => log.close());
  await log.append({ session: 'live', kind: 'connect', meta: { identity: bob } });

  const locked = await spawnCli(['verify', '--data', dataDir, '--certs', certsDir]);
  t.equal(locked.code, 1);
  t.match(locked.stderr, /^wiretrail verify: the audit log in .* is locked by a running proxy: pass --admin URL/);
  t.equal(locked.stderr.trim().split('\n').length, 1);
  for (const cmd of [['sessions', 'list'], ['export', '--out', join(root, 'x')]]) {
    const r = await runHere([...cmd, '--data', dataDir, '--certs', certsDir]);
    t.equal(r.code, 1);
    t.match(r.stderr, /locked by a running proxy: pass --admin URL/);
  }

  const token = 'test-admin-token';
  const admin = await adminServer(auditAdminRoutes(log), token);
  t.teardown(() => admin.close());
  const env = { WIRETRAIL_ADMIN_TOKEN: token };
  let r = await runHere(['verify', '--admin', admin.url], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^ok: 88 records in 4 sessions \(1 open\)/);
  r = await runHere(['verify', '--admin', admin.url, '--key', join(certsDir, 'audit-log.pub')], env);
  t.equal(r.code, 0, r.stderr);
  r = await runHere(['sessions', 'list', '--admin', admin.url, '--json'], env);
  t.same(JSON.parse(r.stdout).map((s: { session: string }) => s.session).sort(), ['live', 'sess-alice', 'sess-alice-2', 'sess-bob']);
  r = await runHere(['sessions', 'show', 'sess-bob', '--admin', admin.url, '--raw'], env);
  t.equal(r.code, 0);
  t.match(r.stdout, /data: \{"delta":"word29"\}/);
  r = await runHere(['sessions', 'show', 'nope', '--admin', admin.url], env);
  t.equal(r.code, 1);
  const out = join(root, 'live.ndjson');
  r = await runHere(['export', '--admin', admin.url, '--user', 'token:bob', '--out', out], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^wrote 35 records/, 'includes the live session (a checkpoint is signed for the export)');
  r = await runHere(['verify-bundle', out, '--key', join(certsDir, 'audit-log.pub')]);
  t.equal(r.code, 0, r.stderr);
  r = await runHere(['export', '--public-key', '--admin', admin.url], env);
  t.match(r.stdout, /^cli\.test\/log\+/);
  r = await runHere(['verify', '--admin', admin.url], { WIRETRAIL_ADMIN_TOKEN: 'wrong' });
  t.equal(r.code, 1);
  t.match(r.stderr, /401/);
});
