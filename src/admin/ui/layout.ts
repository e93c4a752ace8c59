// The page frame shared by every UI page: navigation, the stylesheet and the script, no third party.
import { html, type Html } from './html.js';

export function page(title: string, body: Html, opts: { nav?: boolean; script?: boolean } = {}): string {
  const nav = opts.nav !== false;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · wiretrail</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
${opts.script !== false ? html`<script type="module" src="/assets/app.js"></script>` : ''}
</head>
<body>
<header>
  <span class="brand">wiretrail</span>
  ${nav ? html`<nav aria-label="main"><a href="/">Sessions</a><a href="/checkpoints">Checkpoints</a></nav>
  <form method="post" action="/logout"><button type="submit">Log out</button></form>` : ''}
</header>
<main id="main">
${body}
</main>
</body>
</html>
`.value;
}
