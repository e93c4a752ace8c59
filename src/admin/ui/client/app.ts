// The UI's only script (compiled to dist/ui/app.js, served by wiretrail): replay of streamed answers
// with their recorded timing, live rows on the session list, and the approval queue. Pages work
// without it; it only adds behaviour.

interface ReplayStep {
  atMs: number;
  text: string;
}

/** Plays one exchange's recorded answer: play/pause, 1×/4×/16×, scrub to any step. */
function setupReplay(box: HTMLElement): void {
  const data = box.querySelector<HTMLScriptElement>('script[type="application/json"]');
  const play = box.querySelector<HTMLButtonElement>('.replay-play');
  const speed = box.querySelector<HTMLSelectElement>('.replay-speed');
  const scrub = box.querySelector<HTMLInputElement>('.replay-scrub');
  const out = box.querySelector<HTMLElement>('.replay-out');
  const clock = box.querySelector<HTMLElement>('.replay-time');
  if (!data || !play || !speed || !scrub || !out || !clock) return;
  const steps = JSON.parse(data.textContent ?? '[]') as ReplayStep[];
  let pos = 0;
  let timer: number | null = null;

  const render = () => {
    out.replaceChildren();
    const text = steps.slice(0, pos).map((s) => s.text).join('');
    // Placeholders stand out as they appear, as in the conversation above.
    for (const [i, part] of text.split(/(\[MASKED:[^\]\s]{1,80}\])/g).entries()) {
      if (i % 2) {
        const m = document.createElement('mark');
        m.className = 'masked';
        m.textContent = part;
        out.append(m);
      } else out.append(document.createTextNode(part));
    }
    scrub.value = String(pos);
    clock.textContent = `${pos ? steps[pos - 1]!.atMs : 0} ms`;
    box.dataset['position'] = String(pos);
    box.dataset['state'] = timer !== null ? 'playing' : pos >= steps.length ? 'ended' : 'paused';
  };
  const stop = () => {
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    play.textContent = pos >= steps.length ? 'Replay' : 'Resume';
    play.setAttribute('aria-pressed', 'false');
    render();
  };
  const next = () => {
    if (pos >= steps.length) return stop();
    pos++;
    render();
    if (pos >= steps.length) return stop();
    const wait = (steps[pos]!.atMs - steps[pos - 1]!.atMs) / Number(speed.value);
    timer = window.setTimeout(next, Math.max(0, Math.min(wait, 5000)));
  };
  play.addEventListener('click', () => {
    if (timer !== null) return stop();
    if (pos >= steps.length) pos = 0;
    play.textContent = 'Pause';
    play.setAttribute('aria-pressed', 'true');
    timer = window.setTimeout(next, 0);
    render();
  });
  scrub.addEventListener('input', () => {
    const playing = timer !== null;
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    pos = Number(scrub.value);
    render();
    if (playing) timer = window.setTimeout(next, 0);
  });
  render();
}

/** New and changed sessions appear at the top of the unfiltered first page as they are recorded. */
function setupLive(table: HTMLTableElement): void {
  if (table.dataset['live'] !== 'on' || typeof EventSource === 'undefined') return;
  const body = table.tBodies[0];
  if (!body) return;
  const events = new EventSource('/ui/events');
  events.addEventListener('session', (ev) => {
    const { session, row } = JSON.parse((ev as MessageEvent<string>).data) as { session: string; row: string };
    const tpl = document.createElement('template');
    tpl.innerHTML = row.trim(); // rendered and escaped by the server
    const tr = tpl.content.firstElementChild;
    if (!tr) return;
    const old = body.querySelector(`tr[data-session="${CSS.escape(session)}"]`);
    if (old) old.replaceWith(tr);
    else body.prepend(tr);
  });
  window.addEventListener('pagehide', () => events.close());
}

interface Approval {
  id: string;
  rule: string;
  host: string;
  identity: unknown;
  summary: string;
  createdAt: string | number;
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

async function decide(id: string, action: 'approve' | 'deny'): Promise<void> {
  const res = await fetch(`/v1/approvals/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    credentials: 'same-origin',
  });
  if (!res.ok) window.alert(`${action} failed: ${res.status} ${await res.text()}`);
}

/** The approval queue, when the policy holds requests for approval (the route exists). */
async function loadApprovals(section: HTMLElement): Promise<void> {
  const res = await fetch('/v1/approvals', { credentials: 'same-origin' });
  if (!res.ok) return; // no approvals feature configured: the section stays hidden
  const json = (await res.json()) as Approval[] | { approvals: Approval[] };
  const items = Array.isArray(json) ? json : json.approvals;
  const body = section.querySelector('tbody');
  if (!body) return;
  body.replaceChildren();
  for (const a of items) {
    const tr = document.createElement('tr');
    const who = typeof a.identity === 'string' ? a.identity : JSON.stringify(a.identity);
    tr.append(cell(String(a.createdAt)), cell(a.rule), cell(a.host), cell(who), cell(a.summary));
    const actions = document.createElement('td');
    for (const action of ['approve', 'deny'] as const) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = action === 'approve' ? 'Approve' : 'Deny';
      b.addEventListener('click', () => void decide(a.id, action).then(() => loadApprovals(section)));
      actions.append(b);
    }
    tr.append(actions);
    body.append(tr);
  }
  section.hidden = items.length === 0;
}

document.querySelectorAll<HTMLElement>('.replay').forEach(setupReplay);
const sessions = document.querySelector<HTMLTableElement>('#sessions');
if (sessions) setupLive(sessions);
const approvals = document.querySelector<HTMLElement>('#approvals');
if (approvals && approvals.dataset['enabled'] === 'true') {
  void loadApprovals(approvals);
  window.setInterval(() => void loadApprovals(approvals), 5000);
}
