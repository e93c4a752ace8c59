// Two replicas' logs verified side by side: each with its own data folder, origin and signing key.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openAuditLog } from '../../src/audit/index.js';
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
