// wiretrail log-key: rotation keeps old checkpoints verifiable; show lists every key.
import t from 'tap';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditLog } from '../../src/audit/index.js';
import { runCliHere } from '../helpers/cli.js';

t.test('rotate offline, then the log verifies with old and new checkpoints', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-logkey-'));
  const dataDir = join(dir, 'data');
  const certsDir = join(dir, 'certs');
  let log = await openAuditLog({ dataDir, certsDir });
  await log.append({ session: 's1', kind: 'connect', meta: { a: 1 } });
  await log.endSession('s1');
  await log.close();

  const before = await runCliHere(['log-key', 'show', '--certs', certsDir]);
  t.equal(before.code, 0);
  t.equal(before.stdout.trim().split('\n').length, 1);
  const rot = await runCliHere(['log-key', 'rotate', '--certs', certsDir]);
  t.equal(rot.code, 0, rot.stderr);
  t.equal(statSync(join(certsDir, 'audit-log.key')).mode & 0o777, 0o600);
  const after = await runCliHere(['log-key', 'show', '--certs', certsDir]);
  t.equal(after.stdout.trim().split('\n').length, 2, 'old and new public keys');
  t.equal(after.stdout.trim().split('\n')[1], rot.stdout.trim(), 'the new key is the newest');

  log = await openAuditLog({ dataDir, certsDir });
  await log.append({ session: 's2', kind: 'connect', meta: { a: 2 } });
  await log.endSession('s2');
  await log.close();
  const v = await runCliHere(['verify', '--data', dataDir, '--certs', certsDir]);
  t.equal(v.code, 0, v.stderr + v.stdout);

  t.equal((await runCliHere(['log-key', 'spin'])).code, 2, 'usage error');
});
