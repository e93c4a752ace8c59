// The session browser in headless Chromium (Debian's, driven by playwright-core), end to end: a real
// streamed exchange through the proxy, then log in, filter, search, open the session, see the
// placeholder, replay it, check the integrity badge; then tamper a record in a copy of the store and
// see the badge turn `tampered` with the reason. No request may leave the admin origin and the page
// must log no console error.
import t, { type Test } from 'tap';
import { cpSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyAgent } from 'undici';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { startWiretrail } from '../../src/runtime.js';
import { openDb } from '../../src/audit/store.js';
import { editEntry } from '../audit/store-edit.js';
import { allRecords } from '../helpers/records.js';

const CHROMIUM = '/usr/bin/chromium';
const FIX = new URL('../fixtures/sse/', import.meta.url).pathname;
const KEY = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const ARTIFACTS = new URL('../../artifacts/ui/', import.meta.url).pathname;

if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);

const mock = await startMockUpstream({
  hosts: ['api.openai.com'],
  handler: async (_req: IncomingMessage, _body: string, res: ServerResponse) => {
    const bytes = readFileSync(join(FIX, 'openai-chat.sse'));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    // Paced writes: the recorded timing is what Replay plays back.
    for (let i = 0; i < bytes.length; i += 97) {
      res.write(bytes.subarray(i, i + 97));
      await new Promise((r) => setTimeout(r, 15));
    }
    res.end();
  },
});
const h = await startHarness({
  admin: true,
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`],
});
const adminUrl = `http://127.0.0.1:${h.admin!.port}`;
const token = readFileSync(join(h.certsDir, 'admin.token'), 'utf8').trim();
const browser: Browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
});
t.teardown(async () => {
  await browser.close();
  await h.stop().catch(() => undefined);
  await mock.close();
});

// One streamed chat exchange with a key in the prompt (masked on the way) and in the answer.
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
const client = new OpenAI({ apiKey: 'sk-client-placeholder', fetchOptions: { dispatcher } as never, maxRetries: 0 });
const stream = await client.chat.completions.create({
  model: 'gpt-4.1-mini',
  stream: true,
  messages: [{ role: 'user', content: `Write a minimal client with my key ${KEY} inline.` }],
});
for await (const _ of stream) void _;
await dispatcher.close();
const session = (await allRecords(h)).find((r) => r.kind === 'request')!.session;

/** A page whose console errors and requests outside `origin` are collected; `done()` asserts none. */
async function watchedPage(t: Test, origin: string): Promise<{ page: Page; done(): Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request left the machine's admin origin: ${r.url()}`);
  });
  return {
    page,
    async done() {
      t.same(problems, [], 'no console error, no foreign request');
      await context.close();
    },
  };
}

async function logIn(page: Page, origin: string): Promise<void> {
  await page.goto(origin + '/');
  const pw = page.locator('input[type="password"]');
  t.equal(await pw.count(), 1, 'the login form has a password input');
  await pw.fill(token);
  await Promise.all([page.waitForURL(origin + '/'), page.getByRole('button', { name: 'Log in' }).click()]);
}

t.test('unauthenticated: only the login page, the health and the API refuse', async (t) => {
  const root = await fetch(adminUrl + '/');
  t.equal(root.status, 200);
  t.match(await root.text(), /type="password"/);
  const session = await fetch(adminUrl + '/sessions/x', { redirect: 'manual' });
  t.equal(session.status, 303, 'a page needs a session');
  t.equal((await fetch(adminUrl + '/v1/audit/sessions')).status, 401, 'the API needs the token or a session');
  t.equal((await fetch(adminUrl + '/healthz')).status, 200, 'health needs nothing');
  const wrong = await fetch(adminUrl + '/login', { method: 'POST', body: 'token=wrong', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: adminUrl } });
  t.equal(wrong.status, 401, 'a wrong token is refused');
  const cross = await fetch(adminUrl + '/login', { method: 'POST', body: `token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' } });
  t.equal(cross.status, 403, 'a cross-site login post is refused');
  const noOrigin = await fetch(adminUrl + '/login', { method: 'POST', body: `token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(noOrigin.status, 403, 'a form post without Origin is refused');
  // fetch() may not set Host; a raw request can (as a DNS-rebinding page's browser would send it).
  const rebound = await new Promise<number>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port: h.admin!.port, path: '/', headers: { host: 'evil.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject),
  );
  t.equal(rebound, 403, 'a rebinding Host gets no page');
});

t.test('log in, filter, search, open the session, replay, integrity verified', async (t) => {
  const { page, done } = await watchedPage(t, adminUrl);
  await logIn(page, adminUrl);
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'wt_session');
  t.ok(c?.httpOnly, 'the session cookie is HttpOnly');
  t.equal(c?.sameSite, 'Strict', 'and SameSite=Strict');

  const link = page.getByRole('link', { name: session.slice(0, 12), exact: false });
  await link.first().waitFor();
  const row = page.locator(`tr[data-session="${session}"]`);
  t.match(await row.innerText(), /api\.openai\.com/, 'the row names the host');
  t.match(await row.innerText(), /gpt-4\.1-mini/, 'and the model');
  t.match(await row.innerText(), /openai-node/, 'and the agent from the User-Agent');

  await page.fill('input[name="host"]', 'api.openai.com');
  await page.fill('input[name="q"]', 'minimal client');
  await Promise.all([page.waitForURL(/q=minimal/), page.getByRole('button', { name: 'Filter' }).click()]);
  t.equal(await page.locator(`tr[data-session="${session}"]`).count(), 1, 'search finds the session by its answer text');
  await page.fill('input[name="q"]', 'no such words anywhere');
  await Promise.all([page.waitForURL(/q=no/), page.getByRole('button', { name: 'Filter' }).click()]);
  t.equal(await page.locator(`tr[data-session="${session}"]`).count(), 0, 'a search that matches nothing shows no row');
  await page.goto(adminUrl + '/?decision=allowed');

  await Promise.all([page.waitForURL(/\/sessions\//), page.locator(`tr[data-session="${session}"] a.session-link`).click()]);
  const body = await page.locator('main').innerText();
  t.match(body, /\[MASKED:openai-api-key#1\]/, 'the placeholder is visible as text');
  t.notOk(body.includes(KEY.slice(8, 30)), 'no piece of the key on the page');
  t.match(body, /Write a minimal client with my key/, 'the user prompt is shown');
  t.match(body, /Here is a minimal client/, 'the assistant answer is reassembled');
  const badge = page.getByTestId('integrity');
  t.match(await badge.innerText(), /^verified/, 'integrity verified');

  await page.getByRole('button', { name: 'Replay' }).first().click();
  const replay = page.locator('.replay').first();
  await page.locator('.replay[data-state="playing"], .replay[data-state="ended"]').first().waitFor();
  await page.selectOption('.replay-speed', '16');
  await page.locator('.replay[data-state="ended"]').first().waitFor({ timeout: 30_000 });
  t.match(await replay.locator('.replay-out').innerText(), /\[MASKED:openai-api-key#1\]/, 'the placeholder appears during replay');
  await replay.locator('.replay-scrub').fill('1');
  t.equal(await replay.getAttribute('data-position'), '1', 'scrubbing moves the replay');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'session-view.png') });
  await page.getByText('Raw request and response (masked)').first().click();
  t.match(await page.locator('main').innerText(), /authorization[\s\S]*Bearer \[REDACTED\]/i, 'credentials are redacted in the raw headers');

  await page.goto(adminUrl + '/checkpoints');
  t.match(await page.locator('main').innerText(), /Tree size/, 'the checkpoint history lists signed checkpoints');
  await done();
});

t.test('a tampered copy of the store: the badge turns tampered with the reason', async (t) => {
  const records = await allRecords(h);
  const chunk = records.find((r) => r.kind === 'chunk' && r.session === session && String(r.body).includes('minimal'))!;
  await h.close();
  const copy = join(h.dir, 'data-copy');
  cpSync(h.dataDir, copy, { recursive: true });
  const db = await openDb(copy, { create: false });
  await editEntry(db, chunk.seq, (e) => ({ ...e, body: Buffer.from(String(e.body).replace('minimal', 'MINIMAL')) }));
  await db.close();

  const w = await startWiretrail(
    { ...h.config, dataDir: copy, admin: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 } },
    { banner: false, logDestination: { write: () => true } as never },
  );
  t.teardown(() => w.close());
  const origin = `http://127.0.0.1:${w.admin!.port}`;
  const { page, done } = await watchedPage(t, origin);
  await logIn(page, origin);
  await page.goto(`${origin}/sessions/${encodeURIComponent(session)}`);
  const text = await page.getByTestId('integrity').innerText();
  t.match(text, /^tampered/, 'the badge says tampered');
  t.match(text, new RegExp(`seq ${chunk.seq}`), 'and names the record');
  await done();
});
