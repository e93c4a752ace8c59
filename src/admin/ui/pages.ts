// The UI's pages, rendered on the server from recorded (masked) data. Everything recorded is
// escaped; placeholders [MASKED:rule#n] are highlighted so an auditor sees what was masked.
import { html, jsonBlock, escapeHtml, Html } from './html.js';
import { page } from './layout.js';
import type { Exchange, QueryResult, SessionFacts, SessionQuery, Turn } from '../../transcript/index.js';
import type { Integrity } from './integrity.js';
import type { SessionSummary, StoredRecord } from '../../audit/index.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function loginPage(error: string | null, oidc: boolean): string {
  return page(
    'Log in',
    html`<form class="login" method="post" action="/login">
  <h1>wiretrail audit</h1>
  <p>Log in with the admin token (<code>certs/admin.token</code>).</p>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  <input type="text" name="username" autocomplete="username" value="admin" hidden>
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button class="primary" type="submit">Log in</button>
  ${oidc ? html`<a href="/login/oidc" role="button">OIDC</a>` : ''}
</form>`,
    { nav: false, script: false },
  );
}

/** Text with [MASKED:…] placeholders wrapped in <mark>; everything else escaped. */
export function maskedText(text: string): Html {
  const parts = text.split(/(\[MASKED:[^\]\s]{1,80}\])/g);
  return new Html(parts.map((p, i) => (i % 2 ? `<mark class="masked">${escapeHtml(p)}</mark>` : escapeHtml(p))).join(''));
}

function turnView(t: Turn): Html {
  const label = t.role === 'tool-call' ? `tool call${t.name ? ` · ${t.name}` : ''}` : t.role === 'tool-result' ? `tool result${t.name ? ` · ${t.name}` : ''}` : t.role;
  return html`<div class="turn ${t.role}"><div class="role">${label}</div><pre>${maskedText(t.text)}</pre></div>`;
}

const FILTERS: Array<[keyof SessionQuery, string]> = [
  ['q', 'Search prompts and answers'],
  ['user', 'User'],
  ['group', 'Group'],
  ['repository', 'Repository'],
  ['agent', 'Agent'],
  ['host', 'Host'],
  ['model', 'Model'],
];

export function sessionRow(f: SessionFacts): Html {
  return html`<tr data-session="${f.session}">
  <td class="mono">${iso(f.firstTs)}</td>
  <td><a class="mono session-link" href="/sessions/${encodeURIComponent(f.session)}">${f.session.slice(0, 16)}</a></td>
  <td>${f.subject ?? '—'}${f.groups.length ? html`<div class="meta">${f.groups.join(', ')}</div>` : ''}</td>
  <td>${f.ci.repository ? html`${f.ci.repository}<div class="meta">${f.ci.run ? `run ${f.ci.run}` : ''} ${f.ci.sha ? f.ci.sha.slice(0, 10) : ''}</div>` : '—'}</td>
  <td>${f.agent ?? '—'}</td>
  <td>${f.host ?? '—'}</td>
  <td>${f.models.join(', ') || '—'}</td>
  <td>${f.requests}</td>
  <td>${f.tokens}</td>
  <td>${f.masked}</td>
  <td>${f.decision}</td>
</tr>`;
}

export function listPage(q: SessionQuery, result: QueryResult, params: URLSearchParams, approvals: boolean): string {
  const nextParams = new URLSearchParams(params);
  if (result.next !== null) nextParams.set('before', String(result.next));
  const filtered = [...params.keys()].some((k) => k !== 'before');
  return page(
    'Sessions',
    html`<h1>Sessions</h1>
<section id="approvals" hidden data-enabled="${approvals ? 'true' : 'false'}" aria-labelledby="approvals-h"><h2 id="approvals-h">Waiting for approval</h2><table><thead><tr><th>Created</th><th>Rule</th><th>Host</th><th>Identity</th><th>Summary</th><th></th></tr></thead><tbody></tbody></table></section>
<form class="filters" method="get" action="/" role="search">
  ${FILTERS.map(([k, label]) => html`<label>${label}<input name="${k}" value="${(q[k] as string | undefined) ?? ''}"></label>`)}
  <label>Decision<select name="decision">${['', 'allowed', 'denied', 'approved', 'tunnelled', 'error'].map((d) => html`<option value="${d}"${q.decision === d ? html` selected` : ''}>${d || 'any'}</option>`)}</select></label>
  <label>Since<input name="since" placeholder="2026-12-01 or 24h" value="${params.get('since') ?? ''}"></label>
  <label>Until<input name="until" placeholder="2026-12-03" value="${params.get('until') ?? ''}"></label>
  <button class="primary" type="submit">Filter</button>
  ${filtered ? html`<a href="/">Clear</a>` : ''}
</form>
${result.truncated ? html`<p class="meta" role="status">This page stopped early (the filters rarely meet); older pages may hold more.</p>` : ''}
<table id="sessions" data-live="${!filtered && !params.has('before') ? 'on' : 'off'}">
<thead><tr><th>Time</th><th>Session</th><th>Identity</th><th>CI</th><th>Agent</th><th>Host</th><th>Model</th><th>Requests</th><th>Tokens</th><th>Masked</th><th>Decision</th></tr></thead>
<tbody>${result.rows.map(sessionRow)}</tbody>
</table>
${result.rows.length ? '' : html`<p>No session matches.</p>`}
<nav class="pager" aria-label="pages">${params.has('before') ? html`<a href="/">Newest</a>` : ''}${result.next !== null ? html`<a rel="next" href="/?${nextParams.toString()}">Older</a>` : ''}</nav>`,
  );
}

function headersTable(h: Record<string, string | string[]>): Html {
  return html`<table class="mono"><tbody>${Object.entries(h).map(([k, v]) => html`<tr><th>${k}</th><td>${Array.isArray(v) ? v.join(', ') : v}</td></tr>`)}</tbody></table>`;
}

function exchangeView(e: Exchange, records: Map<number, StoredRecord>): Html {
  const raw = e.seqs.map((s) => records.get(s)).filter((r): r is StoredRecord => r !== undefined);
  return html`<section class="exchange" id="exchange-${e.n}" aria-labelledby="ex-${e.n}-h">
<h3 id="ex-${e.n}-h">#${e.n} ${e.method} ${e.host}${e.path.split('?')[0]}</h3>
<div class="meta">${iso(e.startedAt)} · ${e.api ?? 'unknown format'}${e.model ? ` · ${e.model}` : ''} · status ${e.status ?? '—'} · ${e.outcome}${e.ttfbMs !== null ? ` · first byte ${e.ttfbMs} ms` : ''}${e.durationMs !== null ? ` · total ${e.durationMs} ms` : ''}${e.usage.total !== null || e.usage.input !== null ? ` · tokens in ${e.usage.input ?? '?'} / out ${e.usage.output ?? '?'}` : ''}${e.findings.length ? ` · masked ${e.findings.length}` : ''}</div>
${e.reason ? html`<p class="error">${e.reason}</p>` : ''}
${e.prompt.map(turnView)}
${e.answer.map(turnView)}
${e.replay.length ? html`<div class="replay" data-exchange="${e.n}">
  <div class="replay-controls">
    <button type="button" class="replay-play">Replay</button>
    <label>Speed <select class="replay-speed"><option value="1">1×</option><option value="4">4×</option><option value="16">16×</option></select></label>
    <label>Position <input class="replay-scrub" type="range" min="0" max="${e.replay.length}" value="0" aria-label="replay position"></label>
    <span class="replay-time meta" aria-live="off">0 ms</span>
  </div>
  <pre class="replay-out" aria-live="polite"></pre>
  ${jsonBlock(`replay-${e.n}`, e.replay)}
</div>` : ''}
<details><summary>Raw request and response (masked)</summary>
<h4>Request headers</h4>${headersTable(e.requestHeaders)}
<h4>Response headers</h4>${headersTable(e.responseHeaders)}
${raw.map((r) => html`<h4>${r.kind} · seq ${r.seq} · ${iso(r.ts)}</h4><pre>${JSON.stringify(r.meta, null, 1)}</pre>${r.body ? html`<pre>${maskedText(r.body.toString('utf8'))}</pre>` : r.bodyPruned ? html`<p class="meta">body removed by retention</p>` : ''}`)}
</details>
</section>`;
}

export function sessionPage(summary: SessionSummary, records: StoredRecord[], exchanges: Exchange[], facts: SessionFacts, integrity: Integrity): string {
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  const sessionLevel = records.filter((r) => typeof r.meta['n'] !== 'number');
  return page(
    `Session ${summary.session.slice(0, 12)}`,
    html`<h1>Session <span class="mono">${summary.session}</span></h1>
<p><span class="badge ${integrity.status}" data-testid="integrity" title="${integrity.reason}">${integrity.status === 'tampered' ? `tampered: ${integrity.reason}` : integrity.status}</span>
<span class="meta">${integrity.reason}</span></p>
<p class="meta">${iso(summary.firstTs)} → ${iso(summary.lastTs)} · ${summary.count} records · ${summary.ended ? 'ended' : 'open'} · ${facts.subject ?? 'anonymous'}${facts.groups.length ? ` (${facts.groups.join(', ')})` : ''}${facts.agent ? ` · ${facts.agent}` : ''} · ${facts.decision}</p>
<p><a href="/v1/audit/export?session=${encodeURIComponent(summary.session)}" download="wiretrail-${summary.session.slice(0, 12)}.bundle.ndjson">Export bundle</a></p>
${exchanges.length ? exchanges.map((e) => exchangeView(e, bySeq)) : html`<p>No exchange in this session.</p>`}
<details><summary>Session records (${sessionLevel.length})</summary>
${sessionLevel.map((r) => html`<h4>${r.kind} · seq ${r.seq} · ${iso(r.ts)}</h4><pre>${JSON.stringify(r.meta, null, 1)}</pre>`)}
</details>`,
  );
}

export function checkpointsPage(notes: string[]): string {
  return page(
    'Checkpoints',
    html`<h1>Signed checkpoints</h1>
<p class="meta">Newest first. Each commits to the whole log up to its tree size.</p>
${notes.length ? html`<table><thead><tr><th>Tree size</th><th>Root hash</th><th>Signed note</th></tr></thead><tbody>${notes.map((n) => {
      const [, size, root] = n.split('\n');
      return html`<tr><td>${size ?? ''}</td><td class="mono">${root ?? ''}</td><td><details><summary>note</summary><pre>${n}</pre></details></td></tr>`;
    })}</tbody></table>` : html`<p>No checkpoint yet.</p>`}`,
  );
}

export function notFoundPage(what: string): string {
  return page('Not found', html`<h1>Not found</h1><p>${what}</p><p><a href="/">Back to sessions</a></p>`);
}
