// wiretrail's SigV4 signing checked by the AWS SDK's signer recomputing it (test/helpers/fake-bedrock.ts), and
// the checker itself shown to reject what AWS rejects (a changed body, a changed signed header, another key).
import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { scopeFromHost, signSigV4 } from '../../src/upstream/index.js';
import { verifySigV4, type FakeAwsKey } from '../helpers/fake-bedrock.js';

const KEY: FakeAwsKey = { accessKeyId: 'AKIAWIRETRAILTEST01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYwiretrailTEST' };
const HOST = 'bedrock-runtime.eu-west-3.amazonaws.com';
const PATH = '/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream';

const asReq = (headers: Record<string, string>, path = PATH) => ({ method: 'POST', url: path, headers }) as unknown as IncomingMessage;

t.test('region and signing name from Bedrock host names', async (t) => {
  t.same(scopeFromHost('bedrock-runtime.us-east-1.amazonaws.com'), { region: 'us-east-1', service: 'bedrock' });
  t.same(scopeFromHost('bedrock-runtime-fips.us-gov-west-1.amazonaws.com'), { region: 'us-gov-west-1', service: 'bedrock' });
  t.same(scopeFromHost('bedrock-runtime.cn-north-1.amazonaws.com.cn'), { region: 'cn-north-1', service: 'bedrock' });
  t.equal(scopeFromHost('s3.us-east-1.amazonaws.com'), null);
  t.equal(scopeFromHost('bedrock-runtime.us-east-1.amazonaws.com.evil.test'), null);
});

t.test('what wiretrail signs, the AWS signer accepts; any change after signing is caught', async (t) => {
  const body = Buffer.from('{"messages":[{"role":"user","content":"hi [MASKED:openai-api-key#1]"}]}');
  const headers = await signSigV4(
    { method: 'POST', host: HOST, path: PATH, headers: { host: HOST, 'content-type': 'application/json', 'content-length': String(body.length), authorization: 'AWS4-HMAC-SHA256 client', 'x-amz-date': '19990101T000000Z' }, body },
    KEY,
  );
  const scope = { region: 'eu-west-3', service: 'bedrock' };
  t.equal(await verifySigV4(asReq(headers), body, KEY, scope), null, 'valid');
  t.match(headers['authorization'], /^AWS4-HMAC-SHA256 Credential=AKIAWIRETRAILTEST01\/\d{8}\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, /);
  t.not(headers['x-amz-date'], '19990101T000000Z', "the client's date is replaced");
  t.equal(await verifySigV4(asReq(headers), Buffer.from(body.toString().replace('hi', 'ho')), KEY, scope), 'the body does not match its signed hash');
  t.equal(await verifySigV4(asReq({ ...headers, 'content-type': 'text/plain' }), body, KEY, scope), 'signature does not match');
  t.equal(await verifySigV4(asReq(headers, PATH.replace('invoke-with', 'invoke-without')), body, KEY, scope), 'signature does not match', 'the path is signed');
  t.match(await verifySigV4(asReq(headers), body, { ...KEY, accessKeyId: 'AKIAOTHERKEY0000000' }, scope), /not ours/);
  t.equal(await verifySigV4(asReq(headers), body, { ...KEY, secretAccessKey: 'x'.repeat(40) }, scope), 'signature does not match', 'another secret');
  const withToken = await signSigV4({ method: 'POST', host: HOST, path: PATH, headers: { host: HOST }, body }, { ...KEY, sessionToken: 'tok-123' });
  t.equal(withToken['x-amz-security-token'], 'tok-123');
  t.equal(await verifySigV4(asReq(withToken), body, { ...KEY, sessionToken: 'tok-123' }, scope), null, 'a session token is signed too');
});

t.test('a host without a known region needs region and service from the policy', async (t) => {
  const body = Buffer.from('{}');
  await t.rejects(signSigV4({ method: 'POST', host: 'gateway.internal', path: '/x', headers: {}, body }, KEY), { code: 'WT_ERR_UPSTREAM_SIGNING', status: 502 });
  const h = await signSigV4({ method: 'POST', host: 'gateway.internal', path: '/x', headers: {}, body }, { ...KEY, region: 'us-west-2', service: 'bedrock' });
  t.equal(await verifySigV4(asReq(h, '/x'), body, KEY, { region: 'us-west-2', service: 'bedrock' }), null);
});
