// End-to-end proof that the generated host-mode rules force a runner's egress through wiretrail.
//
//   runner ──veth── proxy (wiretrail; also routes) ──veth── upstream (api.openai.com, other.test,
//   10.77.1.2        10.77.1.1 | 10.77.2.1                  10.77.2.2/.3, TCP+UDP echo, DNS .53/.54)
//
// Before the rules, the runner reaches everything directly (the control that makes each refusal
// below meaningful). After `wiretrail firewall --apply` inside the runner (nftables, then iptables),
// and again with gateway-mode rules on the router instead, only the proxy and the allowed resolver
// remain reachable, and everything through the proxy is recorded.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, netnsUnavailable, removeLeftovers, type RunResult } from './helpers/netns.js';
import { makePki } from './helpers/pki.js';
import { BIN, ensureBuilt } from './helpers/build.js';
import type { ProbeResult, Probe } from './helpers/probe.js';

const unavailable = netnsUnavailable();

const R = { v4: '10.77.1.2', v6: 'fd77:1::2' };
const P = { inner4: '10.77.1.1', inner6: 'fd77:1::1', outer4: '10.77.2.1', outer6: 'fd77:2::1' };
const U = { api4: '10.77.2.2', api6: 'fd77:2::2', other4: '10.77.2.3', dnsAllowed: '10.77.2.53', dnsOther: '10.77.2.54' };
const PROXY = `${P.inner4}:3128`;
const TCP_ECHO = 7000;
const UDP_ECHO = 7001;

if (unavailable) {
  t.test('egress firewall in network namespaces', { skip: `network namespaces unavailable: ${unavailable}` }, async () => {});
} else {
  removeLeftovers();
  ensureBuilt();
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'wt-fw-e2e-'));
  // not t.teardown: the root test may count as done between the awaited subtests below
  try {
    await main(lab, dir);
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(lab: Lab, dir: string): Promise<void> {

  // ---- topology
  const runner = lab.addNamespace('runner');
  const proxy = lab.addNamespace('proxy');
  const upstream = lab.addNamespace('upstream');
  lab.link(runner, [`${R.v4}/24`, `${R.v6}/64`], proxy, [`${P.inner4}/24`, `${P.inner6}/64`], 'r');
  lab.link(proxy, [`${P.outer4}/24`, `${P.outer6}/64`], upstream, [`${U.api4}/24`, `${U.other4}/24`, `${U.dnsAllowed}/24`, `${U.dnsOther}/24`, `${U.api6}/64`], 'u');
  lab.ip(runner, 'route', 'add', 'default', 'via', P.inner4);
  lab.ip(runner, '-6', 'route', 'add', 'default', 'via', P.inner6);
  lab.ip(upstream, 'route', 'add', 'default', 'via', P.outer4);
  lab.ip(upstream, '-6', 'route', 'add', 'default', 'via', P.outer6);
  const fwd = await lab.run(proxy, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  if (fwd.code !== 0) throw new Error(`cannot enable forwarding in the proxy namespace: ${fwd.stderr}`);

  // ---- upstream: mock api.openai.com and a second HTTPS host, under a test CA
  const pki = makePki(['api.openai.com', 'other.test']);
  const testCa = join(dir, 'test-ca.pem');
  writeFileSync(testCa, pki.caPem);
  const upstreamCfg = join(dir, 'upstream.json');
  writeFileSync(
    upstreamCfg,
    JSON.stringify({
      https: [
        { host: 'api.openai.com', addresses: [U.api4, U.api6], ...pki.leaves['api.openai.com'] },
        { host: 'other.test', addresses: [U.other4], ...pki.leaves['other.test'] },
      ],
      echo: { addresses: [U.api4, U.api6], tcpPort: TCP_ECHO, udpPort: UDP_ECHO },
      dns: { addresses: [U.dnsAllowed, U.dnsOther], answer: U.api4 },
    }),
  );
  const helper = (name: string): string => fileURLToPath(new URL(`./helpers/${name}`, import.meta.url));
  await lab.start(upstream, process.execPath, ['--import', 'tsx', helper('upstream.ts'), upstreamCfg], /^ready$/);

  // ---- clients on the runner
  const curl = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
    lab.run(runner, 'curl', ['-sS', '--connect-timeout', '20', '--max-time', '60', ...args], { env: { PATH: process.env.PATH, ...env } });
  const direct = (host: string, addr: string): Promise<RunResult> =>
    curl(['--cacert', testCa, '--resolve', `${host}:443:${addr.includes(':') ? `[${addr}]` : addr}`, `https://${host}/v1/models`]);
  const probe = async (probes: Probe[]): Promise<ProbeResult[]> => {
    const r = await lab.run(runner, process.execPath, ['--import', 'tsx', helper('probe.ts'), JSON.stringify(probes)]);
    if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ProbeResult[];
  };
  const reachProbes: Probe[] = [
    { kind: 'tcp', host: U.api4, port: TCP_ECHO },
    { kind: 'tcp', host: U.api6, port: TCP_ECHO },
    { kind: 'udp', host: U.api4, port: UDP_ECHO },
    { kind: 'udp', host: U.api6, port: UDP_ECHO },
    { kind: 'dns', server: U.dnsAllowed, name: 'api.openai.com' },
    { kind: 'dns', server: U.dnsOther, name: 'api.openai.com' },
  ];
  const wiretrail = (ns: string, args: string[]): Promise<RunResult> => lab.run(ns, process.execPath, [BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
  const fwArgs = ['firewall', '--proxy', PROXY, '--format', 'nftables', '--allow-dns', U.dnsAllowed];

  await t.test('control: without the rules the runner reaches every upstream directly', async (t) => {
    for (const [host, addr] of [['api.openai.com', U.api4], ['api.openai.com', U.api6], ['other.test', U.other4]] as const) {
      const r = await direct(host, addr);
      t.equal(r.code, 0, `${host} at ${addr}: ${r.stderr}`);
      t.match(r.stdout, `"served_by":"${host}"`);
    }
    const results = await probe(reachProbes);
    t.strictSame(results.map((r) => r.ok), [true, true, true, true, true, true], JSON.stringify(results));
    t.equal(results[0]!.detail, 'echo:ping');
    t.equal(results[4]!.detail, U.api4, 'the mock resolver answers');
  });

  // ---- wiretrail in the proxy namespace: enforce mode, static-token auth, the mock hosts via --connect-to
  const dataDir = join(dir, 'data');
  const certsDir = join(dir, 'certs');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, ['egress: enforce', 'intercept: [api.openai.com]', 'tunnel: []', 'allow_private: [api.openai.com]', 'auth: required', ''].join('\n'));
  const created = await wiretrail(proxy, ['tokens', 'create', '--data', dataDir, '--name', 'runner-1']);
  if (created.code !== 0) throw new Error(`wiretrail tokens create failed: ${created.stderr}`);
  const token = created.stdout.trim();
  const proxyProc = await lab.start(
    proxy,
    process.execPath,
    [BIN, 'start', '--listen', PROXY, '--admin', 'off', '--data', dataDir, '--certs', certsDir, '--policy', policyFile, '--upstream-ca', testCa,
      '--connect-to', `api.openai.com:443:${U.api4}:443`, '--connect-to', `other.test:443:${U.other4}:443`],
    /wiretrail started/,
    { env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const caOut = await wiretrail(proxy, ['ca', 'export', '--certs', certsDir]);
  if (caOut.code !== 0) throw new Error(`wiretrail ca export failed: ${caOut.stderr}`);
  const wiretrailCa = join(dir, 'wiretrail-ca.pem');
  writeFileSync(wiretrailCa, caOut.stdout);
  const proxyEnv = { HTTPS_PROXY: `http://runner:${token}@${PROXY}` };

  await t.test('wiretrail firewall --apply in the runner, twice, gives one identical ruleset', async (t) => {
    const first = await wiretrail(runner, [...fwArgs, '--apply']);
    t.equal(first.code, 0, first.stderr);
    t.equal(first.stdout, 'applied host-mode nftables rules\n');
    const before = await lab.run(runner, 'nft', ['list', 'ruleset']);
    const again = await wiretrail(runner, [...fwArgs, '--apply']);
    t.equal(again.code, 0, again.stderr);
    const after = await lab.run(runner, 'nft', ['list', 'ruleset']);
    t.equal(after.stdout, before.stdout, 'applying twice changes nothing');
    t.match(after.stdout, /table inet wiretrail \{\n\tchain output \{\n\t\ttype filter hook output priority filter; policy drop;/);
    t.equal((after.stdout.match(/^table /gm) ?? []).length, 1, 'one table, not two');
  });

  await t.test('direct HTTPS to either upstream fails at once (refused, not a timeout)', async (t) => {
    for (const [host, addr] of [['api.openai.com', U.api4], ['api.openai.com', U.api6], ['other.test', U.other4]] as const) {
      const r = await direct(host, addr);
      // curl 7 = could not connect: the TCP reset arrived; 28 would mean it waited for a timeout
      t.equal(r.code, 7, `${host} at ${addr}: ${r.stderr.trim()}`);
      t.match(r.stderr, /Connection refused|Couldn't connect/);
    }
    // Node's fetch ignores HTTPS_PROXY unless told otherwise: the firewall is what stops it
    const script = `fetch('https://${U.api4}/').then(() => { console.log('reached'); process.exit(0); }, (e) => { console.log(e.cause?.code ?? e.message); process.exit(3); })`;
    const nodeFetch = await lab.run(runner, process.execPath, ['-e', script], { env: { ...process.env, ...proxyEnv, NODE_EXTRA_CA_CERTS: testCa } });
    t.equal(nodeFetch.code, 3, nodeFetch.stdout);
    t.equal(nodeFetch.stdout.trim(), 'ECONNREFUSED');
  });

  await t.test('through HTTPS_PROXY the same request succeeds', async (t) => {
    const r = await curl(['--cacert', wiretrailCa, 'https://api.openai.com/v1/models'], proxyEnv);
    t.equal(r.code, 0, r.stderr);
    if (r.code !== 0) t.comment(`wiretrail output:\n${proxyProc.output().slice(-4000)}`);
    t.match(r.stdout, '"served_by":"api.openai.com"');
    const chat = await curl(['--cacert', wiretrailCa, '-H', 'content-type: application/json', '-d', '{"model":"mock-model","messages":[{"role":"user","content":"hi"}]}', 'https://api.openai.com/v1/chat/completions'], proxyEnv);
    t.equal(chat.code, 0, chat.stderr);
    t.match(chat.stdout, 'hello from api.openai.com');
    const noToken = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '--cacert', wiretrailCa, 'https://api.openai.com/v1/models'], { HTTPS_PROXY: `http://${PROXY}` });
    t.equal(noToken.stdout, '407', 'without the runner token the proxy refuses');
  });

  await t.test('egress: enforce refuses a host that is not allowlisted (403)', async (t) => {
    const r = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '--cacert', testCa, 'https://other.test/v1/models'], proxyEnv);
    t.not(r.code, 0);
    t.equal(r.stdout, '403');
  });

  await t.test('DNS only to the allowed resolver; raw TCP and UDP to the upstreams fail', async (t) => {
    const [tcp4, tcp6, udp4, udp6, dnsOk, dnsOther] = await probe(reachProbes);
    t.equal(dnsOk!.ok, true, `allowed resolver answers: ${dnsOk!.detail}`);
    t.equal(dnsOk!.detail, U.api4);
    t.equal(dnsOther!.ok, false, `other resolver: ${dnsOther!.detail}`);
    t.equal(tcp4!.ok, false);
    t.equal(tcp4!.detail, 'ECONNREFUSED', 'TCP is reset, so it fails at once');
    t.equal(tcp6!.ok, false);
    t.equal(tcp6!.detail, 'ECONNREFUSED');
    t.equal(udp4!.ok, false, `udp4: ${udp4!.detail}`);
    t.equal(udp6!.ok, false, `udp6: ${udp6!.detail}`);
    const dnsTcp = await probe([{ kind: 'tcp', host: U.dnsOther, port: 53 }]);
    t.equal(dnsTcp[0]!.detail, 'ECONNREFUSED', 'DNS over TCP to another resolver fails too');
  });

  await t.test('--check passes, fails after one rule is deleted, passes after re-apply', async (t) => {
    const ok = await wiretrail(runner, [...fwArgs, '--check']);
    t.equal(ok.code, 0, ok.stderr);
    t.equal(ok.stdout, 'ok: the live nftables ruleset enforces the host-mode policy\n');
    const listing = await lab.run(runner, 'nft', ['-a', 'list', 'chain', 'inet', 'wiretrail', 'output']);
    const handle = /comment "wiretrail: refuse other TCP[^"]*" # handle (\d+)/.exec(listing.stdout)?.[1];
    t.ok(handle, 'found the TCP reject rule');
    const del = await lab.run(runner, 'nft', ['delete', 'rule', 'inet', 'wiretrail', 'output', 'handle', handle ?? '0']);
    t.equal(del.code, 0, del.stderr);
    const bad = await wiretrail(runner, [...fwArgs, '--check']);
    t.equal(bad.code, 1);
    t.equal(bad.stderr, 'wiretrail firewall: the live ruleset does not enforce the policy: missing rule: refuse other TCP with a reset so clients fail fast\n');
    const wrongPolicy = await wiretrail(runner, ['firewall', '--proxy', PROXY, '--format', 'nftables', '--check']);
    t.equal(wrongPolicy.code, 1, 'a check for a stricter policy (no DNS) fails on the live rules');
    t.match(wrongPolicy.stderr, /unexpected rule lets traffic through: ip\.daddr=10\.77\.2\.53 udp\.dport=53/);
    const fixed = await wiretrail(runner, [...fwArgs, '--apply', '--check']);
    t.equal(fixed.code, 0, fixed.stderr);
  });

  await t.test('the iptables format enforces the same policy and checks out', async (t) => {
    t.equal((await lab.run(runner, 'nft', ['delete', 'table', 'inet', 'wiretrail'])).code, 0);
    const open = await direct('api.openai.com', U.api4);
    t.equal(open.code, 0, 'with the nftables table gone the runner is open again');
    const ipt = ['firewall', '--proxy', PROXY, '--format', 'iptables', '--allow-dns', U.dnsAllowed];
    const applied = await wiretrail(runner, [...ipt, '--apply']);
    t.equal(applied.code, 0, applied.stderr);
    t.equal((await wiretrail(runner, [...ipt, '--apply', '--check'])).code, 0, 'second apply, then check');
    const jumps = await lab.run(runner, 'iptables', ['-S', 'OUTPUT']);
    t.equal((jumps.stdout.match(/-j WIRETRAIL-OUT/g) ?? []).length, 1, 'one jump after two applies');
    for (const addr of [U.api4, U.api6]) {
      const r = await direct('api.openai.com', addr);
      t.equal(r.code, 7, `direct to ${addr} refused: ${r.stderr.trim()}`);
    }
    const via = await curl(['--cacert', wiretrailCa, 'https://api.openai.com/v1/models'], proxyEnv);
    t.equal(via.code, 0, via.stderr);
    const [udp4, , dnsOk, dnsOther] = await probe([reachProbes[2]!, reachProbes[3]!, reachProbes[4]!, reachProbes[5]!]);
    t.equal(udp4!.ok, false);
    t.equal(dnsOk!.ok, true);
    t.equal(dnsOther!.ok, false);
    // the script form (what users pipe to sh) is idempotent on top of --apply
    const script = await wiretrail(runner, ipt);
    t.equal((await lab.run(runner, 'sh', ['-s'], { input: script.stdout })).code, 0);
    t.equal((await wiretrail(runner, [...ipt, '--check'])).code, 0);
    t.equal(((await lab.run(runner, 'iptables', ['-S', 'OUTPUT'])).stdout.match(/-j WIRETRAIL-OUT/g) ?? []).length, 1);
    t.equal((await lab.run(runner, 'iptables', ['-D', 'OUTPUT', '-j', 'WIRETRAIL-OUT'])).code, 0);
    const noJump = await wiretrail(runner, [...ipt, '--check']);
    t.equal(noJump.code, 1);
    t.match(noJump.stderr, /iptables: OUTPUT does not jump to WIRETRAIL-OUT/);
  });

  await t.test('gateway mode on the router in front of the runner network gives the same boundary', async (t) => {
    // The runner's own rules are inactive now (the jump was removed above); only the router filters.
    const open = await direct('api.openai.com', U.api4);
    t.equal(open.code, 0, 'the runner is open before the gateway rules');
    const gw = ['firewall', '--mode', 'gateway', '--proxy', PROXY, '--runner-cidr', '10.77.1.0/24', '--runner-cidr', 'fd77:1::/64', '--allow-dns', U.dnsAllowed, '--format', 'nftables'];
    const applied = await wiretrail(proxy, [...gw, '--apply', '--check']);
    t.equal(applied.code, 0, applied.stderr);
    for (const addr of [U.api4, U.api6]) {
      const r = await direct('api.openai.com', addr);
      t.equal(r.code, 7, `forwarded HTTPS to ${addr} refused: ${r.stderr.trim()}`);
    }
    // the runner reaches the proxy itself (input, not forwarded); the proxy's own egress is untouched
    const via = await curl(['--cacert', wiretrailCa, 'https://api.openai.com/v1/models'], proxyEnv);
    t.equal(via.code, 0, via.stderr);
    const [tcp4, tcp6, udp4, , dnsOk, dnsOther] = await probe(reachProbes);
    t.equal(tcp4!.detail, 'ECONNREFUSED');
    t.equal(tcp6!.detail, 'ECONNREFUSED');
    t.equal(udp4!.ok, false, `udp4: ${udp4!.detail}`);
    t.equal(dnsOk!.ok, true, 'the allowed resolver is forwarded');
    t.equal(dnsOther!.ok, false, `other resolver: ${dnsOther!.detail}`);
    const listing = await lab.run(proxy, 'nft', ['-a', 'list', 'chain', 'inet', 'wiretrail_gateway', 'forward']);
    const handle = /ip6 saddr fd77:1::\/64 meta l4proto tcp reject with tcp reset comment "[^"]*" # handle (\d+)/.exec(listing.stdout)?.[1];
    t.ok(handle, 'found the IPv6 TCP reject rule');
    t.equal((await lab.run(proxy, 'nft', ['delete', 'rule', 'inet', 'wiretrail_gateway', 'forward', 'handle', handle ?? '0'])).code, 0);
    const bad = await wiretrail(proxy, [...gw, '--check']);
    t.equal(bad.code, 1);
    t.equal(bad.stderr, 'wiretrail firewall: the live ruleset does not enforce the policy: missing rule: refuse other TCP from fd77:1::/64 with a reset so clients fail fast\n');
    t.equal((await lab.run(proxy, 'nft', ['delete', 'table', 'inet', 'wiretrail_gateway'])).code, 0);
  });

  await t.test('every exchange through the proxy was recorded with the runner identity', async (t) => {
    await lab.stop(proxyProc.child);
    const { openAuditLog } = await import('../../src/audit/index.js');
    const log = await openAuditLog({ dataDir, certsDir, readOnly: true });
    try {
      const records = [];
      for (const s of await log.listSessions()) records.push(...(await log.readSession(s.session)));
      const requests = records.filter((r) => r.kind === 'request');
      t.ok(requests.length >= 3, `requests recorded: ${requests.length}`);
      for (const r of requests) {
        const identity = r.meta.identity as { subject?: string };
        t.equal(identity.subject, 'token:runner-1');
        t.equal(r.meta.client, R.v4, 'from the runner address');
        t.equal(r.meta.host, 'api.openai.com');
      }
      t.ok(requests.some((r) => r.meta.method === 'POST' && r.meta.path === '/v1/chat/completions'), 'the chat request');
      const denied = records.find((r) => r.kind === 'deny' && r.meta.target === 'other.test:443');
      t.ok(denied, 'the refused CONNECT to other.test');
      t.equal(denied?.meta.status, 403);
      t.equal((denied?.meta.identity as { subject?: string } | undefined)?.subject, 'token:runner-1');
    } finally {
      await log.close();
    }
  });
}
