import t from 'tap';
import { FirewallInputError, buildSpec, parseAllow, parseCidr, parseEndpoint, parseIp, parseLabel, parseUid, parseFormat } from '../../src/firewall/index.js';

t.test('IP literals are validated and canonicalised', async (t) => {
  t.strictSame(parseIp('10.0.0.1', '--x'), { family: 4, address: '10.0.0.1', prefix: 32 });
  t.strictSame(parseIp('[FD00:0:0::1]', '--x'), { family: 6, address: 'fd00::1', prefix: 128 });
  t.throws(() => parseIp('api.openai.com', '--allow-dns'), { message: /--allow-dns: "api\.openai\.com" is not an IP address \(host names are not allowed/ });
  t.throws(() => parseIp('010.0.0.1', '--x'), FirewallInputError, 'leading zeros are ambiguous (octal)');
  t.throws(() => parseIp('1.2.3', '--x'), FirewallInputError);
  t.throws(() => parseIp('256.0.0.1', '--x'), FirewallInputError);
  t.throws(() => parseIp('fe80::1%eth0', '--x'), { message: /zone/ });
  t.throws(() => parseIp('::ffff:10.0.0.1', '--x'), { message: /IPv4-mapped/ });
});

t.test('networks: prefix range and host bits', async (t) => {
  t.strictSame(parseCidr('10.8.0.0/16', '--runner-cidr'), { family: 4, address: '10.8.0.0', prefix: 16 });
  t.strictSame(parseCidr('fd00:8:0::/64', '--runner-cidr'), { family: 6, address: 'fd00:8::', prefix: 64 });
  t.throws(() => parseCidr('10.8.0.1/16', '--runner-cidr'), { message: '--runner-cidr: "10.8.0.1/16" has host bits set; did you mean 10.8.0.0/16?' });
  t.throws(() => parseCidr('10.8.0.0/33', '--runner-cidr'), { message: /invalid prefix length \(0-32\)/ });
  t.throws(() => parseCidr('fd00::/129', '--runner-cidr'), { message: /\(0-128\)/ });
  t.throws(() => parseCidr('10.8.0.0/', '--runner-cidr'), FirewallInputError);
  t.throws(() => parseCidr('10.8.0.0/1x', '--runner-cidr'), FirewallInputError);
});

t.test('ADDR:PORT endpoints', async (t) => {
  t.strictSame(parseEndpoint('10.0.0.2:3128', '--proxy'), { host: '10.0.0.2', ip: { family: 4, address: '10.0.0.2', prefix: 32 }, port: 3128 });
  t.equal(parseEndpoint('[fd00::2]:443', '--proxy').host, 'fd00::2');
  t.throws(() => parseEndpoint('fd00::2:443', '--proxy'), { message: /IPv6 as \[ADDR\]:PORT/ });
  t.throws(() => parseEndpoint('10.0.0.2', '--proxy'), { message: /--proxy: "10\.0\.0\.2" is not ADDR:PORT/ });
  t.throws(() => parseEndpoint('10.0.0.2:0', '--proxy'), { message: /outside 1-65535/ });
  t.throws(() => parseEndpoint('10.0.0.2:65536', '--proxy'), { message: /outside 1-65535/ });
  t.throws(() => parseEndpoint('10.0.0.2:http', '--proxy'), { message: /invalid port/ });
  t.throws(() => parseEndpoint('proxy.internal:3128', '--proxy'), { message: /not an IP address/ });
  t.throws(() => parseEndpoint('0.0.0.0:3128', '--proxy'), { message: /unspecified/ });
  t.equal(parseEndpoint('wiretrail.ci.svc:3128', '--proxy', true).ip, null, 'a name only where the caller allows it');
});

t.test('--allow forms', async (t) => {
  t.strictSame(parseAllow('10.0.0.5'), { dest: { family: 4, address: '10.0.0.5', prefix: 32 }, port: null, proto: null });
  t.strictSame(parseAllow('10.0.0.0/8:443'), { dest: { family: 4, address: '10.0.0.0', prefix: 8 }, port: 443, proto: 'tcp' });
  t.strictSame(parseAllow('10.0.0.5:123/udp'), { dest: { family: 4, address: '10.0.0.5', prefix: 32 }, port: 123, proto: 'udp' });
  t.strictSame(parseAllow('[fd00::/64]:53/udp'), { dest: { family: 6, address: 'fd00::', prefix: 64 }, port: 53, proto: 'udp' });
  t.strictSame(parseAllow('fd00::9'), { dest: { family: 6, address: 'fd00::9', prefix: 128 }, port: null, proto: null });
  t.strictSame(parseAllow('[fd00::9]'), parseAllow('fd00::9'));
  t.throws(() => parseAllow('0.0.0.0/0'), { message: /would allow every destination/ });
  t.throws(() => parseAllow('::/0'), { message: /would allow every destination/ });
  t.throws(() => parseAllow('10.0.0.5:22/sctp'), { message: /unknown protocol/ });
  t.throws(() => parseAllow('10.0.0.5:'), { message: /invalid port/ });
  t.throws(() => parseAllow('github.com:443'), { message: /is not ADDR\[:PORT\[\/tcp\|udp\]\]/ });
  t.throws(() => parseAllow('10.0.0.1/24'), { message: /host bits set/ });
});

t.test('uids and labels', async (t) => {
  t.equal(parseUid('998'), 998);
  t.throws(() => parseUid('0'), { message: /would exempt every root process/ });
  t.throws(() => parseUid('wiretrail'), { message: /not a numeric uid/ });
  t.throws(() => parseUid('4294967295'), { message: /not a numeric uid/ });
  t.strictSame(parseLabel('app.kubernetes.io/name=wiretrail', '--pod-label'), { key: 'app.kubernetes.io/name', value: 'wiretrail' });
  t.strictSame(parseLabel('tier=', '--pod-label'), { key: 'tier', value: '' });
  t.throws(() => parseLabel('app', '--pod-label'), { message: /KEY=VALUE/ });
  t.throws(() => parseLabel('app=a b', '--pod-label'), { message: /invalid label value/ });
  t.throws(() => parseLabel('-bad=x', '--pod-label'), { message: /invalid label key/ });
});

t.test('flag combinations', async (t) => {
  t.throws(() => parseFormat(undefined), { message: /--format is required/ });
  t.throws(() => parseFormat('pf'), { message: /"pf" is not one of nftables, iptables, k8s/ });
  t.throws(() => buildSpec('nftables', {}), { message: /--proxy ADDR:PORT is required/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', mode: 'router' }), { message: /--mode: "router"/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', mode: 'gateway' }), { message: /needs --runner-cidr/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', runnerCidr: ['10.8.0.0/16'] }), { message: /--runner-cidr only applies to --mode gateway/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', mode: 'gateway', runnerCidr: ['10.8.0.0/16'], proxyUid: '5' }), { message: /--proxy-uid only applies to host mode/ });
  t.throws(() => buildSpec('nftables', { proxy: '[fd00::2]:3128', mode: 'gateway', runnerCidr: ['10.8.0.0/16'] }), { message: /--proxy \[fd00::2\]:3128 is IPv6 but no --runner-cidr is IPv6/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', mode: 'gateway', runnerCidr: ['10.8.0.0/16'], allow: ['fd00::1'] }), { message: /--allow fd00::1 is IPv6/ });
  t.throws(() => buildSpec('nftables', { proxy: '10.0.0.2:3128', podLabel: 'a=b' }), { message: /--pod-label only applies to --format k8s/ });
  t.throws(() => buildSpec('iptables', { proxy: '10.0.0.2:3128', allowDns: 'kube-dns' }), { message: /--allow-dns: "kube-dns" is not an IP address/ });
  t.throws(() => buildSpec('k8s', { proxy: '10.0.0.2:3128', mode: 'host' }), { message: /--mode only applies/ });
  t.throws(() => buildSpec('k8s', { proxy: '10.0.0.2:3128', proxyNamespace: 'x' }), { message: /--proxy-namespace only applies to --format k8s with --proxy-pod-label/ });
  t.throws(() => buildSpec('k8s', { proxy: 'wiretrail.svc:3128' }), { message: /not an IP address/, }, 'a proxy name needs --proxy-pod-label');
  const s = buildSpec('nftables', { proxy: '10.0.0.2:3128', allow: ['10.1.0.1:80', '10.1.0.1:80/tcp'] });
  t.equal(s.allow.length, 1, 'duplicates collapse');
  t.equal(s.mode, 'host', 'host is the default mode');
});
