// --check against rulesets the real tools printed (test/fixtures/firewall/README.md), and mutations of them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildChain, buildSpec, checkIptablesSave, checkNftJson, type FirewallFlags } from '../../src/firewall/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/firewall/${name}`, import.meta.url), 'utf8');
const hostFlags: FirewallFlags = { proxy: '10.250.1.2:3128', allowDns: '10.250.1.53', proxyUid: '999', allow: ['[fd00:1::/64]:443', '10.0.0.5:123/udp', '192.0.2.0/24'] };
const gatewayFlags: FirewallFlags = { mode: 'gateway', proxy: '10.250.1.2:3128', runnerCidr: ['10.8.0.0/16', 'fd00:8::/64'], allowDns: '10.250.1.53', allow: ['[fd00:1::5]:8443'] };

interface NftDoc { nftables: Record<string, any>[] }
const hostChain = buildChain(buildSpec('nftables', hostFlags));
const hostDoc = (): NftDoc => JSON.parse(fixture('host-nft.json'));
const rulesIn = (doc: NftDoc) => doc.nftables.filter((e) => e.rule);

t.test('the live ruleset produced by --apply passes', async (t) => {
  t.strictSame(checkNftJson(fixture('host-nft.json'), hostChain), []);
  t.strictSame(checkNftJson(fixture('gateway-nft.json'), buildChain(buildSpec('nftables', gatewayFlags))), []);
});

t.test('deleting any one rule is reported by its description', async (t) => {
  const count = rulesIn(hostDoc()).length;
  t.equal(count, hostChain.rules.length, 'one live rule per expected rule');
  for (let i = 0; i < count; i++) {
    const doc = hostDoc();
    const victim = rulesIn(doc)[i]!;
    doc.nftables = doc.nftables.filter((e) => e !== victim);
    const problems = checkNftJson(JSON.stringify(doc), hostChain);
    t.strictSame(problems, [`missing rule: ${String(victim.rule.comment).replace(/^wiretrail: /, '')}`], `rule ${i} (${victim.rule.comment})`);
  }
});

t.test('a rule changed in place (other port) is missing, and its replacement is flagged', async (t) => {
  const doc = hostDoc();
  const proxyRule = rulesIn(doc).find((e) => /the proxy 10/.test(e.rule.comment))!;
  proxyRule.rule.expr[1].match.right = 8080;
  const problems = checkNftJson(JSON.stringify(doc), hostChain);
  t.equal(problems.length, 2);
  t.equal(problems[0], 'missing rule: the proxy 10.250.1.2:3128');
  t.match(problems[1], /^unexpected rule lets traffic through: ip\.daddr=10\.250\.1\.2 tcp\.dport=8080 \| accept$/);
});

t.test('an extra accept or jump is flagged; extra drops and counters are not', async (t) => {
  const doc = hostDoc();
  const base = { family: 'inet', table: 'wiretrail', chain: 'output' };
  doc.nftables.push({ rule: { ...base, handle: 90, expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 443 } }, { counter: { packets: 0, bytes: 0 } }, { accept: null }] } });
  doc.nftables.push({ rule: { ...base, handle: 91, expr: [{ jump: { target: 'elsewhere' } }] } });
  doc.nftables.push({ rule: { ...base, handle: 92, expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '192.0.2.9' } }, { drop: null }] } });
  doc.nftables.push({ rule: { ...base, handle: 93, expr: [{ counter: { packets: 1, bytes: 2 } }] } });
  t.strictSame(checkNftJson(JSON.stringify(doc), hostChain), [
    'unexpected rule lets traffic through: tcp.dport=443 | accept',
    'unexpected rule lets traffic through: | {"jump":{"target":"elsewhere"}}',
  ]);
});

t.test('table, chain and policy problems', async (t) => {
  t.strictSame(checkNftJson('{"nftables":[{"metainfo":{}}]}', hostChain), ['table inet wiretrail is missing (nothing restricts egress)']);
  t.strictSame(checkNftJson('not json', hostChain), ['the ruleset from nft is not valid JSON']);
  const noChain = hostDoc();
  noChain.nftables = noChain.nftables.filter((e) => !e.chain && !e.rule);
  t.strictSame(checkNftJson(JSON.stringify(noChain), hostChain), ['chain output is missing from table inet wiretrail']);
  const accept = hostDoc();
  accept.nftables.find((e) => e.chain)!.chain.policy = 'accept';
  t.strictSame(checkNftJson(JSON.stringify(accept), hostChain), ['chain output has policy accept, expected drop']);
  const hook = hostDoc();
  hook.nftables.find((e) => e.chain)!.chain.hook = 'input';
  t.strictSame(checkNftJson(JSON.stringify(hook), hostChain), ['chain output is not a filter chain on the output hook']);
  const otherTable = hostDoc();
  for (const e of otherTable.nftables) {
    if (e.table) e.table.name = 'other';
  }
  t.strictSame(checkNftJson(JSON.stringify(otherTable), hostChain), ['table inet wiretrail is missing (nothing restricts egress)'], 'a table of another name does not count');
});

t.test('equivalent JSON spellings of other nft versions still match', async (t) => {
  const doc = hostDoc();
  for (const e of rulesIn(doc)) {
    for (const x of e.rule.expr) {
      // newer nft writes ct state as a set object and may write oifname; both mean the same
      if (x.match?.left?.ct) x.match.right = { set: [...x.match.right].reverse() };
      if (x.match?.left?.meta?.key === 'oif') x.match.left.meta.key = 'oifname';
      if (x.match?.right?.set && x.match.left.payload?.protocol === 'icmpv6') x.match.right.set.reverse();
    }
    e.rule.expr.unshift({ counter: { packets: 5, bytes: 300 } });
    delete e.rule.comment;
  }
  t.strictSame(checkNftJson(JSON.stringify(doc), hostChain), []);
});

t.test('a policy different from the live one is reported, not accepted', async (t) => {
  const other = buildChain(buildSpec('nftables', { ...hostFlags, proxy: '10.250.1.3:3128', allowDns: undefined }));
  t.strictSame(checkNftJson(fixture('host-nft.json'), other), [
    'missing rule: the proxy 10.250.1.3:3128',
    'unexpected rule lets traffic through: ip.daddr=10.250.1.2 tcp.dport=3128 | accept',
    'unexpected rule lets traffic through: ip.daddr=10.250.1.53 udp.dport=53 | accept',
    'unexpected rule lets traffic through: ip.daddr=10.250.1.53 tcp.dport=53 | accept',
  ]);
});

t.test('iptables-save: the applied chains pass; deletions, a late jump and extra accepts do not', async (t) => {
  const spec = buildSpec('iptables', hostFlags);
  const chain = buildChain(spec);
  const v4 = fixture('host-iptables-save.txt');
  const v6 = fixture('host-ip6tables-save.txt');
  t.strictSame(checkIptablesSave(v4, spec, chain, 4), []);
  t.strictSame(checkIptablesSave(v6, spec, chain, 6), []);

  const lines = v4.split('\n');
  const ruleLines = lines.filter((l) => l.startsWith('-A WIRETRAIL-OUT'));
  for (const victim of ruleLines) {
    const problems = checkIptablesSave(lines.filter((l) => l !== victim).join('\n'), spec, chain, 4);
    const what = /--comment "wiretrail: ([^"]*)"/.exec(victim)![1]!;
    t.strictSame(problems, [`iptables: missing rule: ${what}`], what);
  }
  const noJump = lines.filter((l) => l !== '-A OUTPUT -j WIRETRAIL-OUT').join('\n');
  t.strictSame(checkIptablesSave(noJump, spec, chain, 4), ['iptables: OUTPUT does not jump to WIRETRAIL-OUT']);
  const late = v4.replace('-A OUTPUT -j WIRETRAIL-OUT', '-A OUTPUT -d 198.51.100.1/32 -j ACCEPT\n-A OUTPUT -j WIRETRAIL-OUT');
  t.strictSame(checkIptablesSave(late, spec, chain, 4), ['iptables: 1 rule(s) in OUTPUT come before the jump to WIRETRAIL-OUT and can bypass it']);
  const extra = v4.replace('COMMIT', '-A WIRETRAIL-OUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A WIRETRAIL-OUT -d 198.51.100.1/32 -j DROP\nCOMMIT');
  t.strictSame(checkIptablesSave(extra, spec, chain, 4), ['iptables: unexpected rule lets traffic through: -A WIRETRAIL-OUT -p tcp -m tcp --dport 22 -j ACCEPT']);
  t.strictSame(checkIptablesSave('*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n', spec, chain, 6), ['ip6tables: chain WIRETRAIL-OUT is missing (nothing restricts egress)']);
});
