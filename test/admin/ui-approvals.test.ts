// The approval queue in the session browser: a request held by a require_approval rule shows up on
// the sessions page, an auditor logged in with the admin token approves it there, and the held
// streaming request then completes through the real proxy.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyAgent } from 'undici';
import OpenAI from 'openai';
import { chromium } from 'playwright-core';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
const FIX = new URL('../fixtures/sse/', import.meta.url).pathname;

const mock = await startMockUpstream({
  hosts: ['api.openai.com'],
  handler: async (_req: IncomingMessage, _body: string, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(readFileSync(join(FIX, 'openai-chat.sse')));
  },
});
const h = await startHarness({
  admin: true,
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`],
  policy: `egress: audit
auth: optional
approvals:
  keepalive: 100ms
rules:
  - name: prod-deploys
    match: { prompt: { contains: ["deploy to production"] } }
    action: require_approval
    approval: { timeout: 60s, approvers: { groups: [sre] } }
`,
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run'] });
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await browser.close();
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

t.test('approve a held streaming request from the page', async (t) => {
  const origin = `http://127.0.0.1:${h.admin!.port}`;
  const token = readFileSync(join(h.certsDir, 'admin.token'), 'utf8').trim();
  const client = new OpenAI({ apiKey: 'sk-client', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const held = (async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'please deploy to production now' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    return text;
  })();
  let settled = false;
  void held.finally(() => (settled = true)).catch(() => undefined);

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(origin + '/');
  await page.fill('input[type="password"]', token);
  await Promise.all([page.waitForURL(origin + '/'), page.getByRole('button', { name: 'Log in' }).click()]);
  const queue = page.locator('#approvals');
  await queue.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 30_000 });
  t.match(await queue.innerText(), /prod-deploys[\s\S]*api\.openai\.com[\s\S]*deploy to production/, 'the held request is listed with its rule, host and masked summary');
  t.notOk(settled, 'the request is still held');
  await queue.getByRole('button', { name: 'Approve' }).click();
  const text = await held;
  t.match(text, /^Here is a minimal client/, 'the approved request went upstream and streamed back');
  await queue.waitFor({ state: 'hidden', timeout: 15_000 });
  t.same(errors, [], 'no console error');
  await page.close();
});
