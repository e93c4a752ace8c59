// Unit checks of the env formatting and validation helpers (the CLI tests cover them end to end).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientEnv, formatEnv, checkProxyUrl, parseNoProxy, writeTrustBundle } from '../../src/ca/index.js';

const vars = clientEnv({ proxyUrl: 'http://127.0.0.1:8080', caCertPath: '/c/ca.pem', bundlePath: '/c/bundle.pem', noProxy: ['localhost', '::1'] });

t.test('one line per variable in each shell', async (t) => {
  t.equal(vars.length, 10);
  t.match(formatEnv(vars, 'sh'), /^export NO_PROXY='localhost,::1'$/m);
  t.match(formatEnv(vars, 'fish'), /^set -gx GIT_SSL_CAINFO '\/c\/bundle\.pem'$/m);
  t.match(formatEnv(vars, 'powershell'), /^\$env:REQUESTS_CA_BUNDLE = '\/c\/bundle\.pem'$/m);
});

t.test('quoting keeps awkward characters literal', async (t) => {
  const v: Array<[string, string]> = [['X', `a'b\\c $HOME \`x\` "q"`]];
  t.equal(formatEnv(v, 'sh'), `export X='a'\\''b\\c $HOME \`x\` "q"'\n`);
  t.equal(formatEnv(v, 'fish'), `set -gx X 'a\\'b\\\\c $HOME \`x\` "q"'\n`);
  t.equal(formatEnv(v, 'powershell'), `$env:X = 'a''b\\c $HOME \`x\` "q"'\n`);
});

t.test('proxy URL and no-proxy validation', async (t) => {
  t.equal(checkProxyUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
  t.equal(checkProxyUrl('http://[::1]:8080'), 'http://[::1]:8080');
  t.equal(checkProxyUrl('https://u:p@proxy:443'), 'https://u:p@proxy');
  t.throws(() => checkProxyUrl('socks5://h:1'), /http:\/\/ or https:\/\//);
  t.throws(() => checkProxyUrl('127.0.0.1:8080'), /http:\/\/ or https:\/\/|not a URL/);
  t.throws(() => checkProxyUrl('http://h:1/x'), /path/);
  t.same(parseNoProxy(' a.com,,.b.com , 10.0.0.0/8,[::1]'), ['a.com', '.b.com', '10.0.0.0/8', '[::1]']);
  t.throws(() => parseNoProxy('a.com;rm -rf'), /invalid entry/);
});

t.test('the trust bundle is system roots plus our CA', async (t) => {
  const dir = t.testdir();
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const path = join(dir, 'sub', 'b.pem');
  const { source } = writeTrustBundle(path, ca, 'CN=test CA');
  const text = readFileSync(path, 'utf8');
  t.ok(text.endsWith(`# CN=test CA (added by wiretrail env)\n${ca}`));
  t.ok((text.match(/BEGIN CERTIFICATE/g) ?? []).length > 50, `roots from ${source}`);
});
