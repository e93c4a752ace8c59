import t from 'tap';
import { isNonPublicAddress } from '../../src/upstream/address-guard.js';

t.test('private, loopback, link-local, CGNAT and embedded IPv4 are non-public', async (t) => {
  for (const ip of [
    '127.0.0.1', '127.255.1.2', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fc12::1', 'fe80::1',
    '::ffff:127.0.0.1', '::ffff:8.8.8.8', '64:ff9b::a00:1', '2002:a00:1::', '2001:0:4136:e378::1', '::7f00:1', 'ff02::1',
  ]) t.ok(isNonPublicAddress(ip), ip);
});

t.test('public addresses pass', async (t) => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '104.18.6.192', '2606:4700::6810:1', '2a00:1450:4001::200e'])
    t.notOk(isNonPublicAddress(ip), ip);
});

t.test('garbage is never public', async (t) => {
  t.ok(isNonPublicAddress('not-an-ip'));
  t.ok(isNonPublicAddress(''));
});
