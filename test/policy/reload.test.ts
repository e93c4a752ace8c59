// Reload: a valid new file is swapped in; a broken one is refused with one clear log line and the old
// policy stays in force; a change of the file triggers the reload by itself; a request that took the
// policy before the swap keeps deciding with it.
import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PolicyStage } from '../../src/policy/index.js';
import { ANONYMOUS } from '../../src/identity/types.js';

const deny = (word: string) => `rules:\n  - name: no-${word}\n    match: { prompt: { contains: ["${word}"] } }\n    action: deny\n`;
const facts = (text: string) => ({
  host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] })), identity: ANONYMOUS, clientAddress: '127.0.0.1',
});

function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'wt-reload-'));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, deny('alpha'));
  const logs: string[] = [];
  const stage = new PolicyStage({ file, logger: pino({ level: 'info' }, { write: (s: string) => void logs.push(s) }), watchDebounceMs: 20 });
  t.teardown(() => stage.close());
  return { dir, file, logs, stage };
}

t.test('a broken file is refused with one log line; the old policy stays', async (t) => {
  const { file, logs, stage } = setup(t);
  const before = stage.current();
  writeFileSync(file, deny('alpha') + '    colour: red\n');
  const r = stage.reload('SIGHUP');
  t.notOk(r.ok);
  t.equal(stage.current(), before, 'same policy object in force');
  t.equal(stage.decide(stage.current(), facts('alpha')).action, 'deny');
  const lines = logs.filter((l) => /policy reload refused/.test(l));
  t.equal(lines.length, 1);
  t.match(lines[0], /policy reload refused \(SIGHUP\): .*policy\.yaml:5: rules\.0\.colour: unknown key \\"colour\\"; the previous policy stays in force/);
  t.match(JSON.parse(lines[0]!).level, 50, 'logged as an error');
});

t.test('a valid file is swapped in; an in-flight request keeps the policy it started with', async (t) => {
  const { file, logs, stage } = setup(t);
  const inFlight = stage.current();
  writeFileSync(file, deny('beta'));
  t.same(stage.reload('SIGHUP'), { ok: true, changed: true, message: 'policy reloaded (SIGHUP): 1 rules' });
  t.equal(stage.decide(stage.current(), facts('alpha')).action, 'allow');
  t.equal(stage.decide(stage.current(), facts('beta')).action, 'deny');
  t.equal(stage.decide(inFlight, facts('alpha')).action, 'deny', 'the old object still decides for the request that holds it');
  t.equal(stage.reload('SIGHUP').changed, false, 'unchanged file: no swap');
  t.ok(logs.some((l) => /policy reloaded \(SIGHUP\)/.test(l)));
});

t.test('a change of the file reloads by itself (also when an editor replaces it by rename)', async (t) => {
  const { dir, file, logs, stage } = setup(t);
  stage.watch();
  const waitFor = async (re: RegExp) => {
    while (!logs.some((l) => re.test(l))) await new Promise((r) => setTimeout(r, 10));
  };
  writeFileSync(file, deny('gamma'));
  await waitFor(/policy reloaded \(file changed\)/);
  t.equal(stage.decide(stage.current(), facts('gamma')).action, 'deny');
  const tmp = join(dir, '.policy.yaml.swp');
  writeFileSync(tmp, deny('delta'));
  renameSync(tmp, file);
  while (stage.decide(stage.current(), facts('delta')).action !== 'deny') await new Promise((r) => setTimeout(r, 10));
  t.pass('renamed-in file reloaded');
  writeFileSync(file, 'rules: [\n');
  await waitFor(/policy reload refused \(file changed\)/);
  t.equal(stage.decide(stage.current(), facts('delta')).action, 'deny', 'still the last good policy');
});
