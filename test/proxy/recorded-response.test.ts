// The structural fail-closed gate: response bytes leave only after a record that covers them committed.
import t from 'tap';
import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { RecordedResponse } from '../../src/proxy/recorded-response.js';
import { UpstreamBrokenError, StoreUnavailableError } from '../../src/errors/index.js';

function fakeRes(): { res: ServerResponse; sent: () => string } {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (d: Buffer) => parts.push(d));
  return { res: sink as unknown as ServerResponse, sent: () => Buffer.concat(parts).toString() };
}

const b = (s: string) => Buffer.from(s);

t.test('client bytes wait for the record that covers them', async (t) => {
  const { res, sent } = fakeRes();
  const records: string[] = [];
  let heads = 0;
  const g = new RecordedResponse(res, async (_m, body) => void records.push(body.toString()), () => heads++);
  await g.commit({ client: b('raw-1 '), record: b('') }, 1);
  t.equal(sent(), '', 'nothing sent while no record covers it');
  await g.commit({ client: b('raw-2 '), record: b('rec-1-2') }, 2);
  t.equal(sent(), 'raw-1 raw-2 ', 'released once a record committed');
  await g.commitEnd({ client: b('raw-3'), record: b('') }, 3);
  t.equal(sent(), 'raw-1 raw-2 ', 'what the end covers waits for finish() (after the exchange\'s last record)');
  t.equal(g.heldBytes, 5);
  g.finish();
  t.equal(sent(), 'raw-1 raw-2 raw-3', 'the end record covers the rest: sent with the end of the body');
  t.same(records, ['rec-1-2']);
  t.equal(heads >= 1, true);
});

t.test('a body that produced no record at all is withheld (a future format cannot bypass the record)', async (t) => {
  const { res, sent } = fakeRes();
  const g = new RecordedResponse(res, async () => undefined, () => undefined);
  await g.commit({ client: b('opaque bytes'), record: b('') }, 1);
  await t.rejects(g.commitEnd({ client: b(' more'), record: b('') }, 2), UpstreamBrokenError);
  t.equal(sent(), '', 'no byte reached the client');
});

t.test('a record that cannot be written stops the bytes it would cover', async (t) => {
  const { res, sent } = fakeRes();
  const g = new RecordedResponse(res, async () => {
    throw new StoreUnavailableError('disk full');
  }, () => undefined);
  await t.rejects(async () => g.commit({ client: b('secret-ish'), record: b('masked') }, 1), StoreUnavailableError);
  t.equal(sent(), '');
});

t.test('a chunk recorded synchronously is sent at once, without a promise', async (t) => {
  const { res, sent } = fakeRes();
  const records: string[] = [];
  const g = new RecordedResponse(res, (_m, body) => void records.push(body.toString()), () => undefined);
  t.equal(g.commit({ client: b('a'), record: b('') }, 1), undefined);
  t.equal(g.commit({ client: b('b'), record: b('ab') }, 2), undefined, 'no promise when nothing waits');
  t.equal(sent(), 'ab');
  const failing = new RecordedResponse(res, () => {
    throw new StoreUnavailableError('disk full');
  }, () => undefined);
  t.throws(() => failing.commit({ client: b('secret-ish'), record: b('masked') }, 3), StoreUnavailableError, 'a synchronous record failure throws at once');
  t.equal(sent(), 'ab', 'and its bytes stay withheld');
});

t.test('uncovered bytes are bounded', async (t) => {
  const { res } = fakeRes();
  const g = new RecordedResponse(res, async () => undefined, () => undefined);
  const big = Buffer.alloc(8 * 1024 * 1024);
  await t.rejects(async () => {
    for (let i = 0; i < 6; i++) await g.commit({ client: big, record: b('') }, i);
  }, UpstreamBrokenError);
});
