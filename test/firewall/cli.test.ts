// The command's contract as seen from outside: exit codes, stdout, one-line stderr.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliHere, type CliResult } from './helpers/cli.js';

const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => runCliHere(['firewall', ...args], env);

t.test('as a separate process: output, a usage error, a failure', async (t) => {
  const ok = await runCli(['firewall', '--proxy', '10.0.0.2:3128', '--format', 'nftables']);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /^#!\/usr\/sbin\/nft -f\n/);
  t.equal(ok.stderr, '');
  const usage = await runCli(['firewall', '--format', 'nftables']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /^wiretrail firewall: --proxy ADDR:PORT is required\nusage: /);
  const empty = mkdtempSync(join(tmpdir(), 'wt-fw-nopath-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const fail = await runCli(['firewall', '--proxy', '10.0.0.2:3128', '--format', 'nftables', '--check'], { env: { ...process.env, PATH: empty } });
  t.equal(fail.code, 1);
  t.equal(fail.stderr, 'wiretrail firewall: nft not found; install it (Debian: apt-get install nftables)\n');
});

t.test('prints each format and exits 0', async (t) => {
  const nft = await run(['--proxy', '10.0.0.2:3128', '--format', 'nftables']);
  t.equal(nft.code, 0);
  t.match(nft.stdout, /^#!\/usr\/sbin\/nft -f\n/);
  t.equal(nft.stderr, '');
  const ipt = await run(['--proxy', '10.0.0.2:3128', '--format', 'iptables', '--allow', '10.1.0.0/16', '--allow', '10.2.0.1:443']);
  t.equal(ipt.code, 0);
  t.match(ipt.stdout, /-A WIRETRAIL-OUT -d 10\.1\.0\.0\/16 /);
  const k8s = await run(['--proxy', '10.0.0.2:3128', '--format', 'k8s', '--allow-dns', 'kube-dns']);
  t.equal(k8s.code, 0);
  t.match(k8s.stdout, /kind: NetworkPolicy/);
  const help = await run(['--help']);
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
    const r = await run(args);
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
      const r = await run(['--proxy', '10.0.0.2:3128', '--format', format, flag], { PATH: empty });
      t.equal(r.code, 1, `${format} ${flag}`);
      t.match(r.stderr, /^wiretrail firewall: (nft|iptables-save) not found; install it \(Debian: apt-get install (nftables|iptables)\)\n$/);
      t.equal(r.stderr.trim().split('\n').length, 1, 'exactly one line');
    }
  }
});
