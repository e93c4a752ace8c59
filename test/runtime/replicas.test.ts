// Two replicas' logs verified and exported side by side: each with its own data folder, origin and signing key.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openAuditLog, PUBLIC_KEYS_FILE } from '../../src/audit/index.js';
import { runCliHere } from '../helpers/cli.js';

async function replica(root: string, name: string, sessions: number): Promise<{ data: string; certs: string }> {
  const data = join(root, name, 'data');
  const certs = join(root, name, 'certs');
  const log = await openAuditLog({ dataDir: data, certsDir: certs, origin: `wiretrail.local/${name}/log`, logger: pino({ level: 'silent' }) });
  for (let s = 0; s < sessions; s++) {
    await log.append({ session: `${name}-s${s}`, kind: 'connect', meta: { host: 'api.openai.com' } });
    await log.append({ session: `${name}-s${s}`, kind: 'request', meta: { n: 1 }, body: Buffer.from(`prompt ${s}`) });
    await log.endSession(`${name}-s${s}`);
  }
  await log.close();
  return { data, certs };
}

t.test('two replicas verify side by side, each reported on its own line', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wt-replicas-'));
  const a = await replica(root, 'wiretrail-0', 2);
  const b = await replica(root, 'wiretrail-1', 3);
  const r = await runCliHere(['verify', '--data', `${a.data}:${a.certs}`, '--data', b.data]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^replica ${a.data} \\(wiretrail\\.local/wiretrail-0/log\\): ok: 6 records in 2 sessions \\(0 open\\)`, 'm'));
  t.match(r.stdout, new RegExp(`^replica ${b.data} \\(wiretrail\\.local/wiretrail-1/log\\): ok: 9 records in 3 sessions \\(0 open\\)`, 'm'), 'without :CERTS the log finds its own keys');
  t.match(r.stdout, /^2 of 2 replicas verified$/m);

  const json = await runCliHere(['verify', '--json', '--data', a.data, '--data', b.data]);
  t.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as { data: string; report: { ok: boolean; origin: string } }[];
  t.same(rows.map((x) => [x.data, x.report.ok, x.report.origin]), [[a.data, true, 'wiretrail.local/wiretrail-0/log'], [b.data, true, 'wiretrail.local/wiretrail-1/log']]);

  // Replica 1's log checked with replica 0's keys: that replica fails, the other still passes.
  const wrong = await runCliHere(['verify', '--data', a.data, '--data', `${b.data}:${a.certs}`]);
  t.equal(wrong.code, 1);
  t.match(wrong.stdout, new RegExp(`^replica ${a.data} .*: ok:`, 'm'));
  t.match(wrong.stderr, new RegExp(`^replica ${b.data} .*: FAILED`, 'm'));
  t.match(wrong.stdout, /^1 of 2 replicas verified$/m);
});

t.test('export with several --data writes one bundle per replica, each with its own origin and key', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wt-replicas-export-'));
  const a = await replica(root, 'wiretrail-0', 2);
  const b = await replica(root, 'wiretrail-1', 3);
  const out = join(root, 'bundles');
  const r = await runCliHere(['export', '--data', `${a.data}:${a.certs}`, '--data', b.data, '--out', out]);
  t.equal(r.code, 0, r.stderr);
  const fa = join(out, 'wiretrail.local_wiretrail-0_log.bundle');
  const fb = join(out, 'wiretrail.local_wiretrail-1_log.bundle');
  t.same(readdirSync(out).sort(), ['wiretrail.local_wiretrail-0_log.bundle', 'wiretrail.local_wiretrail-1_log.bundle'], 'one file per replica, named by origin, no partial files left');
  t.match(r.stdout, new RegExp(`^replica ${a.data} \\(wiretrail\\.local/wiretrail-0/log\\): wrote 6 records from 2 sessions to ${fa}$`, 'm'));
  t.match(r.stdout, new RegExp(`^replica ${b.data} \\(wiretrail\\.local/wiretrail-1/log\\): wrote 9 records from 3 sessions to ${fb}$`, 'm'));
  t.match(r.stdout, /^2 of 2 replicas exported to /m);

  // Each bundle carries its own origin and only its own replica's key.
  const head = (f: string) => JSON.parse(readFileSync(f, 'utf8').split('\n')[0]!) as { origin: string; publicKeys: string[] };
  const keyOf = (certs: string) => readFileSync(join(certs, PUBLIC_KEYS_FILE), 'utf8').trim().split('\n');
  t.same([head(fa).origin, head(fa).publicKeys], ['wiretrail.local/wiretrail-0/log', keyOf(a.certs)]);
  t.same([head(fb).origin, head(fb).publicKeys], ['wiretrail.local/wiretrail-1/log', keyOf(b.certs)]);
  const okA = await runCliHere(['verify-bundle', fa, '--key', join(a.certs, PUBLIC_KEYS_FILE)]);
  t.equal(okA.code, 0, okA.stderr);
  t.match(okA.stdout, /ok: 6 records from 2 sessions, all included in the signed tree of 6 records of wiretrail\.local\/wiretrail-0\/log/);
  const okB = await runCliHere(['verify-bundle', fb, '--key', join(b.certs, PUBLIC_KEYS_FILE)]);
  t.equal(okB.code, 0, okB.stderr);
  const crossed = await runCliHere(['verify-bundle', fa, '--key', join(b.certs, PUBLIC_KEYS_FILE)]);
  t.equal(crossed.code, 1, 'replica 0\'s bundle does not pass with replica 1\'s key');

  // Several bundles at once: one line per bundle (replica) with its origin.
  const both = await runCliHere(['verify-bundle', fa, fb, '--key', join(a.certs, PUBLIC_KEYS_FILE), '--key', join(b.certs, PUBLIC_KEYS_FILE)]);
  t.equal(both.code, 0, both.stderr);
  t.match(both.stdout, new RegExp(`^bundle ${fa} \\(wiretrail\\.local/wiretrail-0/log\\): ok: 6 records from 2 sessions`, 'm'));
  t.match(both.stdout, new RegExp(`^bundle ${fb} \\(wiretrail\\.local/wiretrail-1/log\\): ok: 9 records from 3 sessions`, 'm'));
  t.match(both.stdout, /^2 of 2 bundles verified$/m);
  const onlyA = await runCliHere(['verify-bundle', fa, fb, '--key', join(a.certs, PUBLIC_KEYS_FILE)]);
  t.equal(onlyA.code, 1, 'replica 1\'s bundle fails when only replica 0\'s key is trusted');
  t.match(onlyA.stdout, /^1 of 2 bundles verified$/m);
  t.match(onlyA.stderr, new RegExp(`^bundle ${fb} .*: FAILED`, 'm'));

  // A session lives on one replica: the others say so and write nothing; exit 0.
  const one = join(root, 'one');
  const s = await runCliHere(['export', '--data', a.data, '--data', b.data, '--session', 'wiretrail-1-s2', '--out', one]);
  t.equal(s.code, 0, s.stderr);
  t.match(s.stdout, new RegExp(`^replica ${a.data} .*: no session "wiretrail-1-s2" in this log; nothing written$`, 'm'));
  t.match(s.stdout, new RegExp(`^replica ${b.data} .*: wrote 3 records from 1 sessions to `, 'm'));
  t.same(readdirSync(one), ['wiretrail.local_wiretrail-1_log.bundle']);
  const none = await runCliHere(['export', '--data', a.data, '--data', b.data, '--session', 'nowhere', '--out', join(root, 'none')]);
  t.equal(none.code, 1, 'a session on no replica is an error');
  t.match(none.stderr, /no replica holds session "nowhere"/);

  // Two replicas with one origin would read as one log: the second is refused, the first still written.
  const twin = await replica(join(root, 'twin'), 'wiretrail-0', 1);
  const dup = await runCliHere(['export', '--data', a.data, '--data', twin.data, '--out', join(root, 'dup')]);
  t.equal(dup.code, 1);
  t.match(dup.stderr, new RegExp(`^replica ${twin.data} .*: FAILED: origin wiretrail\\.local/wiretrail-0/log is shared with replica ${a.data}`, 'm'));
  t.same(readdirSync(join(root, 'dup')), ['wiretrail.local_wiretrail-0_log.bundle']);
  t.equal(head(join(root, 'dup', 'wiretrail.local_wiretrail-0_log.bundle')).publicKeys[0], keyOf(a.certs)[0], 'the file is the first replica\'s, not overwritten');

  const file = join(root, 'a-file');
  writeFileSync(file, '');
  const usage = await runCliHere(['export', '--data', a.data, '--data', b.data, '--out', file]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--out names a folder/);
});
