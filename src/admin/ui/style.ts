// The UI's one stylesheet, served from the admin port (no CDN). Plain, high-contrast, readable.
export const STYLE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --accent: #0550ae; --ok: #116329; --bad: #a40e26; --mask: #fff1c2; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d; --accent: #79c0ff; --ok: #3fb950; --bad: #ff7b72; --mask: #5a4500; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; }
header nav { display: flex; gap: 1rem; flex: 1; }
main { padding: 1rem 1.2rem; max-width: 1400px; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, summary:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
pre { white-space: pre-wrap; word-break: break-word; margin: .3rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
button.primary { background: var(--accent); color: var(--bg); border-color: var(--accent); }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; font-weight: 600; font-size: 13px; border: 1px solid currentColor; }
.badge.verified { color: var(--ok); }
.badge.tampered { color: var(--bad); }
.badge.unsigned { color: var(--muted); }
.turn { border-left: 3px solid var(--line); padding: .2rem .8rem; margin: .6rem 0; }
.turn .role { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.turn.user { border-color: var(--accent); }
.turn.assistant { border-color: var(--ok); }
.turn.tool-call, .turn.tool-result { border-color: #8250df; }
.turn.system { border-color: var(--muted); }
mark.masked { background: var(--mask); color: inherit; padding: 0 .15rem; border-radius: 3px; }
.exchange { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; }
.exchange h3 { margin: 0 0 .4rem; font-size: 15px; }
.meta { color: var(--muted); font-size: 13px; }
.replay-controls { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
.replay-out { min-height: 2rem; border: 1px dashed var(--line); padding: .4rem .6rem; }
.login { max-width: 24rem; margin: 4rem auto; display: flex; flex-direction: column; gap: .8rem; }
.error { color: var(--bad); }
.pager { display: flex; gap: 1rem; margin-top: 1rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
