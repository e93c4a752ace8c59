// The deployment recipes, checked as far as this machine allows: the systemd unit with systemd-analyze,
// the compose file and the Kubernetes manifests parsed and held to what the docs promise, the Dockerfile's
// instructions read the way docker reads them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { runCliHere } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const read = (p: string) => readFileSync(join(root, p), 'utf8');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('systemd unit: systemd-analyze verify is clean and the hardening is there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-unit-'));
  const unit = read('deploy/systemd/wiretrail.service');
  writeFileSync(join(dir, 'wiretrail.service'), unit);
  const r = spawnSync('systemd-analyze', ['verify', join(dir, 'wiretrail.service')], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'systemd-analyze is installed (.ci/run installs systemd)');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr.trim(), '', 'no warnings');
  // The check is live: a misspelt value is reported.
  writeFileSync(join(dir, 'broken.service'), unit.replace('ProtectSystem=strict', 'ProtectSystem=stricter'));
  const bad = spawnSync('systemd-analyze', ['verify', join(dir, 'broken.service')], { encoding: 'utf8' });
  t.match(bad.stderr, /protect system value/i, 'systemd-analyze reports a bad directive');
  for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/wiretrail', 'NoNewPrivileges=yes', 'ExecReload=/bin/kill -HUP $MAINPID', 'KillSignal=SIGTERM']) {
    t.match(unit, new RegExp(`^${line.replace(/[$]/g, '\\$')}$`, 'm'), line);
  }
  const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
  t.ok(stop > 30, 'the stop timeout outlasts the 30 s shutdown grace period');
  t.match(unit, /^Environment=WIRETRAIL_DATA=\/var\/lib\/wiretrail\/data$/m);
  t.match(unit, /^Environment=WIRETRAIL_CERTS=\/var\/lib\/wiretrail\/certs$/m);
});

t.test('compose: the runner reaches nothing but the proxy, and never sees the CA key', async (t) => {
  const c = parseYaml(read('deploy/docker-compose.yml')) as Obj;
  const { wiretrail, runner } = c.services;
  t.same(runner.networks, ['agents'], 'the runner is only on the agents network');
  t.equal(c.networks.agents.internal, true, 'which has no route outside');
  t.same([...wiretrail.networks].sort(), ['agents', 'egress'], 'the proxy bridges agents and egress');
  t.equal(runner.environment.HTTPS_PROXY, 'http://wiretrail:8080');
  t.equal(runner.environment.NODE_EXTRA_CA_CERTS, '/etc/wiretrail/ca.pem');
  t.notOk(JSON.stringify(runner.volumes).includes('wiretrail-certs'), 'the certs volume (CA key, log key) is not mounted in the runner');
  t.same(c.services['ca-export'].command, ['ca', 'export', '--out', '/var/lib/wiretrail/export/ca.pem'], 'only the certificate is exported');
  t.equal(wiretrail.read_only, true, 'read-only root filesystem');
  t.equal(wiretrail.user, 'node');
  t.ok(wiretrail.volumes.includes('wiretrail-data:/var/lib/wiretrail/data') && wiretrail.volumes.includes('wiretrail-certs:/var/lib/wiretrail/certs'), 'data and certs volumes');
  t.equal(wiretrail.environment.WIRETRAIL_ADMIN, '0.0.0.0:8081', 'admin reachable from the host when asked');
  t.same(wiretrail.ports, ['127.0.0.1:8081:8081'], 'published on the host loopback only');
  t.match(JSON.stringify(wiretrail.healthcheck.test), /\/readyz/);
  t.ok(parseInt(wiretrail.stop_grace_period, 10) > 30, 'stop grace outlasts shutdown_grace_seconds');
});

t.test('Kubernetes: StatefulSet with a PVC pair per replica, probes, Service, NetworkPolicy from wiretrail firewall', async (t) => {
  const docs = parseAllDocuments(read('deploy/k8s/wiretrail.yaml')).map((d) => d.toJS() as Obj);
  const byKind = (k: string) => docs.filter((d) => d.kind === k);
  const sts = byKind('StatefulSet')[0]!;
  t.ok(sts.spec.replicas >= 2, 'several replicas');
  t.same(sts.spec.volumeClaimTemplates.map((v: Obj) => v.metadata.name).sort(), ['certs', 'data'], 'a data and a certs PVC per replica');
  const pod = sts.spec.template.spec;
  const c = pod.containers[0];
  const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value]));
  t.equal(env.WIRETRAIL_ADMIN, '0.0.0.0:8081', 'probes reach the admin port');
  t.equal(env.WIRETRAIL_AUDIT_ORIGIN, 'wiretrail.local/$(POD_NAME)/log', 'one log origin per replica');
  t.same([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ['/healthz', '/readyz']);
  t.equal(c.readinessProbe.httpGet.port, 'admin');
  t.same(c.ports.map((p: Obj) => [p.name, p.containerPort]), [['proxy', 8080], ['admin', 8081]]);
  t.equal(c.securityContext.readOnlyRootFilesystem, true);
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.ok(pod.terminationGracePeriodSeconds > Number(env.WIRETRAIL_SHUTDOWN_GRACE_SECONDS), 'the kubelet waits longer than the grace period');
  const mounts = c.volumeMounts.map((m: Obj) => m.mountPath);
  t.ok(mounts.includes(env.WIRETRAIL_DATA) && mounts.includes(env.WIRETRAIL_CERTS), 'the PVCs hold data and certs');
  const labels = sts.spec.template.metadata.labels;
  for (const svc of byKind('Service')) t.same(svc.spec.selector, labels, `Service ${svc.metadata.name} selects the pods`);
  const proxySvc = byKind('Service').find((s) => s.metadata.name === 'wiretrail')!;
  t.equal(proxySvc.spec.ports[0].targetPort, 'proxy');

  // The runners' NetworkPolicy is exactly what `wiretrail firewall` prints for the arguments in its header.
  const np = read('deploy/k8s/runner-egress.yaml');
  const args = /^# Generated by: wiretrail (.+)$/m.exec(np)![1]!.split(' ');
  const r = await runCliHere(args);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, np, 'regenerating the NetworkPolicy gives the same file');
  const policy = parseYaml(np.split('\n').filter((l) => !l.startsWith('#')).join('\n')) as Obj;
  t.equal(policy.kind, 'NetworkPolicy');
  const proxyRule = policy.spec.egress[0];
  t.same(proxyRule.to[0].podSelector.matchLabels, labels, 'runners may reach the wiretrail pods');
  t.equal(proxyRule.ports[0].port, 8080, 'on the container port');
  t.equal(proxyRule.to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], sts.metadata.namespace);
});

t.test('Dockerfile: non-root, volumes, settings through WIRETRAIL_*, HEALTHCHECK on /readyz', async (t) => {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m).slice(1);
  t.equal(stages.length, 2, 'a build stage and a runtime stage');
  const final = stages[1]!;
  const env: Record<string, string> = {};
  for (const m of final.matchAll(/^ENV (.+)$/gm)) for (const kv of m[1]!.trim().split(/\s+/)) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  t.match(final, /^USER node$/m, 'runs as node, not root');
  const volumes = JSON.parse(/^VOLUME (.+)$/m.exec(final)![1]!) as string[];
  t.same(volumes, [env.WIRETRAIL_DATA, env.WIRETRAIL_CERTS], 'the volumes are the data and certs folders');
  t.match(/^HEALTHCHECK .+$/m.exec(final)![0], /127\.0\.0\.1:8081\/readyz/);
  t.equal(env.WIRETRAIL_ADMIN, '127.0.0.1:8081', 'the admin API is opt-in beyond the container');
  t.match(final, /^CMD \["start"\]$/m);
  t.notMatch(stages[0]!, /COPY (test|bench) /, 'tests and benchmarks stay out of the image');
  // Every setting the image sets is one the configuration model knows.
  const r = await runCliHere(['config', 'show', '--json'], { ...env, WIRETRAIL_POLICY: join(root, 'policies/default.yaml') });
  t.equal(r.code, 0, r.stderr);
  const s = (JSON.parse(r.stdout) as { settings: Record<string, { source: string }> }).settings;
  for (const k of ['listen', 'admin', 'data', 'certs', 'policy']) t.equal(s[k]!.source, 'env', `${k} from the image's environment`);
});
