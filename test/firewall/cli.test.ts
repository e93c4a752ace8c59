// The command's contract as seen from outside: exit codes, stdout, one-line stderr.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./helpers/cli-entry.ts', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, 'firewall', ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('prints each format and exits 0', async (t) => {
  const nft = run(['--proxy', '10.0.0.2:3128', '--format', 'nftables']);
  t.equal(nft.code, 0);
  t.match(nft.stdout, /^#!\/usr\/sbin\/nft -f\n/);
  t.equal(nft.stderr, '');
  const ipt = run(['--proxy', '10.0.0.2:3128', '--format', 'iptables', '--allow', '10.1.0.0/16', '--allow', '10.2.0.1:443']);
  t.equal(ipt.code, 0);
  t.match(ipt.stdout, /-A WIRETRAIL-OUT -d 10\.1\.0\.0\/16 /);
  const k8s = run(['--proxy', '10.0.0.2:3128', '--format', 'k8s', '--allow-dns', 'kube-dns']);
  t.equal(k8s.code, 0);
  t.match(k8s.stdout, /kind: NetworkPolicy/);
  const help = run(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: wiretrail firewall --proxy ADDR:PORT --format nftables\|iptables\|k8s/);
});

t.test('usage errors exit 2 and name the problem', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--format', 'nftables'], /--proxy ADDR:PORT is required/],
    [['--proxy', '10.0.0.2:3128'], /--format is required/],
    [['--proxy', '10.0.0.2:3128', '--format', 'pf'], /"pf" is not one of/],
    [['--proxy', 'proxy.local:3128', '--format', 'nftables'], /--proxy: "proxy\.local" is not an IP address \(host names are not allowed/],
    [['--proxy', '10.0.0.2:3128', '--format', 'nftables', '--allow-dns', '8.8.8.8.8'], /--allow-dns: "8\.8\.8\.8\.8" is not an IP address/],
    [['--proxy', '10.0.0.2:3128', '--format', 'nftables', '--mode', 'gateway', '--runner-cidr', '10.0.0.1/8'], /host bits set; did you mean 10\.0\.0\.0\/8\?/],
    [['--proxy', '10.0.0.2:3128', '--format', 'nftables', '--allow', '10.0.0.9:99999'], /outside 1-65535/],
    [['--proxy', '10.0.0.2:3128', '--format', 'nftables', '--proxy-uid', 'root'], /not a numeric uid/],
    [['--proxy', '10.0.0.2:3128', '--format', 'nftables', '--bogus'], /Unknown option '--bogus'/],
    [['--proxy', '10.0.0.2:3128', '--format', 'k8s', '--apply'], /--apply and --check need --format nftables or iptables/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /^wiretrail firewall: /);
    t.match(r.stderr, re);
    t.equal(r.stdout, '', 'nothing on stdout');
  }
});

t.test('a failure to reach the ruleset exits 1 with one line on stderr', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'wt-fw-nopath-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  for (const flag of ['--check', '--apply']) {
    for (const format of ['nftables', 'iptables']) {
      const r = run(['--proxy', '10.0.0.2:3128', '--format', format, flag], { ...process.env, PATH: empty });
      t.equal(r.code, 1, `${format} ${flag}`);
      t.match(r.stderr, /^wiretrail firewall: (nft|iptables-save) not found; install it \(Debian: apt-get install (nftables|iptables)\)\n$/);
      t.equal(r.stderr.trim().split('\n').length, 1, 'exactly one line');
    }
  }
});
