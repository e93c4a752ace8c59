// The Dockerfile's build steps replayed in a clean temp folder the way `docker build` runs them (no Docker
// engine here; see dockerfile.ts): the context minus .dockerignore, its COPY steps, its RUN lines verbatim
// (`npm ci`, the `prepare` build, `npm prune`, the runtime stage's mkdir/chown/chmod). Then the image runs
// the way the docs say: read-only root, fresh folders on the VOLUMEs, as USER node, in its own network, and
// the image's own HEALTHCHECK command, run inside it, must pass (/readyz), and SIGTERM must exit 0.
// Differences from a real build, on purpose: the base image's /usr is this machine's (Node 20, not the
// image's 22), and npm prefers its local cache (npm_config_prefer_offline) so the install stays fast.
// Its own file (about two minutes: npm ci and two tsc runs on a shared machine).
import t from 'tap';
import { mkdtempSync, mkdirSync, chownSync, chmodSync, existsSync, readdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStages, runContainer, userIds, type BuiltStage } from './dockerfile.js';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'wt-docker-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const npmCache = existsSync(join(homedir(), '.npm')) ? join(homedir(), '.npm') : null;

let stages: BuiltStage[] = [];
const log: string[] = [];
t.test('the build steps run in a clean folder and produce a runnable image', async (t) => {
  try {
    stages = buildStages(join(root, 'Dockerfile'), root, work, { npmCache, runEnv: [['npm_config_prefer_offline', 'true']], log: (s) => log.push(s) });
  } catch (err) {
    t.fail(`${(err as Error).message}\n${log.join('\n')}`);
    return;
  }
  t.equal(stages.length, 2, 'a build stage and a runtime stage');
  t.comment(log.map((l) => l.split('\n')[0]).join('\n'));
  const [build, image] = stages as [BuiltStage, BuiltStage];
  t.ok(existsSync(join(build.root, 'app/dist/src/cli/main.js')), 'npm ci ran prepare: dist/ is built');
  t.ok(existsSync(join(build.root, 'app/dist/ui')) || existsSync(join(build.root, 'app/dist/src/admin/ui')), 'the admin UI script is built too');
  const app = join(image.root, image.workdir);
  t.same(readdirSync(app).sort(), ['bin', 'dist', 'node_modules', 'package.json', 'policies', 'preload'], 'the image holds the app and nothing of the checkout besides');
  t.notOk(existsSync(join(app, 'node_modules/typescript')), 'dev dependencies are pruned');
  t.notOk(existsSync(join(app, 'node_modules/tap')), 'test tools are not in the image');
  t.ok(existsSync(join(app, 'node_modules/prom-client')) && existsSync(join(app, 'node_modules/classic-level')), 'runtime dependencies are there');
  for (const v of ['data', 'certs']) {
    const st = statSync(join(image.root, 'var/lib/wiretrail', v));
    t.same([st.uid, st.mode & 0o777], [...userIds(image.root, 'node').slice(0, 1), 0o700], `${v} folder belongs to node, mode 700`);
  }
  t.equal(statSync(join(app, 'dist')).uid, 0, 'the app stays root-owned (node cannot change it)');
});

t.test('the image starts read-only as node, its HEALTHCHECK passes on /readyz, and SIGTERM exits 0', async (t) => {
  const image = stages[1];
  if (!image) {
    t.fail('no image was built');
    return;
  }
  const [uid, gid] = userIds(image.root, image.user);
  t.not(uid, 0, 'USER is not root');
  const env = new Map(image.env);
  const volumes: [string, string][] = [];
  for (const path of JSON.parse(image.meta.get('VOLUME') ?? '[]') as string[]) {
    // A fresh named volume starts as a copy of the image's folder: same owner and mode, empty.
    const host = join(work, 'volumes', path.replace(/\//g, '_'));
    mkdirSync(host, { recursive: true });
    const st = statSync(join(image.root, path));
    chownSync(host, st.uid, st.gid);
    chmodSync(host, st.mode & 0o7777);
    volumes.push([host, path]);
  }
  t.same(volumes.map((v) => v[1]), [env.get('WIRETRAIL_DATA'), env.get('WIRETRAIL_CERTS')], 'the volumes are the data and certs folders');

  const c = await runContainer(image, volumes, join(work, 'container.pid'));
  t.teardown(() => {
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  });

  // The image's own HEALTHCHECK command, exec form, inside the container; the start period is 20 s.
  const hc = /CMD\s+(\[.*\])\s*$/.exec(image.meta.get('HEALTHCHECK') ?? '');
  t.ok(hc, 'the image has an exec-form HEALTHCHECK');
  const probe = JSON.parse(hc![1]!) as string[];
  let last = { status: null as number | null, output: '' };
  const end = Date.now() + 60_000;
  while (Date.now() < end && c.proc.exitCode === null) {
    last = c.exec(probe);
    if (last.status === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.equal(last.status, 0, `HEALTHCHECK passes: ${last.output}\n--- container output ---\n${c.output()}`);
  // By now the entrypoint has exec'd into the proxy (the pid file is written just before).
  const status = readFileSync(`/proc/${c.pid}/status`, 'utf8');
  t.match(status, /^Name:\s+node$/m);
  t.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s`, 'm'), `the proxy runs as uid ${uid}`);
  t.match(status, new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s`, 'm'));
  const ready = c.exec(['node', '-e', "fetch('http://127.0.0.1:8081/readyz').then(async (r) => console.log(r.status, await r.text()))"]);
  t.match(ready.output, /^200 \{"ready":true/, '/readyz: store writable, CA loaded, policy valid');
  const cantWrite = c.exec(['node', '-e', "try { require('fs').writeFileSync('/app/x', '1'); console.log('wrote') } catch (e) { console.log(e.code) }"]);
  t.equal(cantWrite.output.trim(), 'EROFS', 'the root filesystem is read-only');

  // Everything the proxy wrote is on the volumes, owned by node.
  const certs = volumes.find((v) => v[1] === env.get('WIRETRAIL_CERTS'))![0];
  const data = volumes.find((v) => v[1] === env.get('WIRETRAIL_DATA'))![0];
  t.ok(existsSync(join(certs, 'ca.pem')), 'the CA is in the certs volume');
  t.equal(statSync(join(certs, 'ca-key.pem')).mode & 0o777, 0o600, 'the CA key is 0600');
  t.equal(statSync(join(certs, 'ca-key.pem')).uid, uid);
  t.ok(readdirSync(data).length > 0, 'the audit store is in the data volume');

  t.equal(image.meta.get('STOPSIGNAL'), 'SIGTERM');
  process.kill(c.pid, 'SIGTERM');
  const code = await Promise.race([c.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
  t.equal(code, 0, `SIGTERM: a clean exit\n${c.output()}`);
  t.notMatch(c.output(), /"level":(50|60)/, 'no error or fatal line');
});
