import Handlebars from 'handlebars';

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string): string => Handlebars.escapeExpression(s);

/**
 * Pages allow no inline script and no third-party anything: scripts come from /assets only,
 * forms post only to us, and no site can frame a page (clickjacking a one-click button).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS = `
:root{--ink:#1c2330;--ink2:#3b4452;--ink3:#5f6b7a;--line:#dfe2e7;--bg:#f4f5f7;--card:#fff;--accent:#3442b8;--accent-ink:#2f3db3;--chip:#eceefc;--chip-ink:#2a3594;--err:#b42318;--err-bg:#fef3f2;--ok:#067647;--ok-bg:#ecfdf3;--focus:#f0b429;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--ink:#eef1f5;--ink2:#c4ccd6;--ink3:#9aa4b1;--line:#2a3039;--bg:#0f1216;--card:#171b21;--accent:#6170e0;--accent-ink:#a9b5ff;--chip:#252c52;--chip-ink:#cfd6ff;--err:#fda29b;--err-bg:#3a1512;--ok:#75e0a7;--ok-bg:#0e2c1e}}
*{box-sizing:border-box}
body{font:16px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);margin:0;-webkit-text-size-adjust:100%}
a{color:var(--accent-ink)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--card);padding:.5rem 1rem;z-index:2}
header.site{max-width:var(--w);margin:0 auto;padding:1.75rem 1.25rem .5rem}
header.site a{font-weight:800;letter-spacing:.04em;text-transform:uppercase;color:var(--accent);text-decoration:none;font-size:.95rem}
main{max-width:var(--w);margin:0 auto;padding:0 1.25rem 2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:1.5rem}
@media (min-width:700px){.card{padding:2rem 2.25rem}}
h1{font-size:1.7rem;line-height:1.2;margin:.25rem 0 .75rem;letter-spacing:-.01em}
h2{font-size:1.15rem;margin:0 0 .5rem}
p{margin:0 0 1rem}.lead{font-size:1.08rem;color:var(--ink2)}
.muted,.hint{color:var(--ink3);font-size:.9rem}
.hint{margin:.35rem 0 0}
code{font-size:.88em;background:var(--chip);color:var(--chip-ink);padding:.05em .35em;border-radius:4px}
label,legend{display:block;font-weight:650;margin:0 0 .35rem;padding:0}
fieldset{border:0;padding:0;margin:0}
.field{margin:0 0 1.35rem}
input[type=email],input[type=date],textarea,select{width:100%;font:inherit;color:var(--ink);background:var(--card);border:1px solid #b8bfca;border-radius:10px;padding:.65rem .8rem}
textarea{min-height:8.5rem;resize:vertical;line-height:1.5}
input:focus-visible,textarea:focus-visible,select:focus-visible,button:focus-visible,a:focus-visible,.choice input:focus-visible+span{outline:3px solid var(--focus);outline-offset:2px}
[aria-invalid=true]{border-color:var(--err)}
.error{color:var(--err);font-size:.92rem;margin:.35rem 0 0;font-weight:600}
.alert{border-radius:10px;padding:.8rem 1rem;margin:0 0 1.25rem}
.alert.err{background:var(--err-bg);color:var(--err)}.alert.ok{background:var(--ok-bg);color:var(--ok)}
.choices{display:flex;flex-wrap:wrap;gap:.5rem}
.choice{position:relative}
.choice input{position:absolute;opacity:0;inset:0;margin:0}
.choice span{display:block;padding:.55rem 1rem;border:1px solid #b8bfca;border-radius:999px;cursor:pointer;font-weight:600}
.choice input:checked+span{background:var(--accent);border-color:var(--accent);color:#fff}
.row{display:grid;grid-template-columns:1fr;gap:0 1rem}
@media (min-width:560px){.row{grid-template-columns:9rem 1fr}}
button,.button{display:inline-block;font:inherit;font-weight:650;padding:.7rem 1.3rem;border-radius:10px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;min-height:44px}
button.secondary,.button.secondary{background:transparent;color:var(--accent-ink)}
button.danger{background:var(--err);border-color:var(--err);color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-top:1.5rem}
.grid{display:grid;gap:1.5rem}
@media (min-width:960px){.grid{grid-template-columns:minmax(0,1.15fr) minmax(0,1fr);align-items:start}.grid aside{position:sticky;top:1rem}}
.preview h2{display:flex;justify-content:space-between;gap:1rem;align-items:baseline}
.preview ol{list-style:none;margin:0;padding:0}
.alert-preview{border-top:1px solid var(--line);padding:.9rem 0 .4rem}
.alert-preview:first-child{border-top:0;padding-top:0}
.alert-preview h3{font-size:.98rem;margin:0 0 .4rem}
.chip{display:inline-block;background:var(--chip);color:var(--chip-ink);border-radius:999px;padding:.1rem .6rem;font-size:.82rem;font-weight:650;margin:0 .35rem .35rem 0}
.papers{margin:.25rem 0 0;padding-left:1.1rem}.papers li{margin:0 0 .45rem}.papers .why{display:block;color:var(--ink3);font-size:.85rem}
.section{border-top:1px solid var(--line);margin-top:1.75rem;padding-top:1.5rem}
footer.site{max-width:var(--w);margin:0 auto;padding:0 1.25rem 2.5rem;color:var(--ink3);font-size:.88rem}
`;

export interface PageOptions {
  /** Wider layout, and the body brings its own cards (the subscribe page with its preview). */
  wide?: boolean;
  /** Load the progressive-enhancement script. */
  script?: boolean;
}

/** The accessible page shell of the public site: works without JavaScript, readable on a phone. */
export function page(title: string, body: string, opts: PageOptions = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Paperboy</title>
<style>:root{--w:${opts.wide ? '72rem' : '40rem'}}${CSS}</style>${opts.script ? '\n<script src="/assets/app.js" defer></script>' : ''}
</head><body><a class="skip" href="#main">Skip to content</a>
<header class="site"><a href="/">Paperboy</a></header>
<main id="main">${opts.wide ? body : `<div class="card">${body}</div>`}</main>
<footer class="site">Paperboy emails you new research papers that match your alerts. No tracking pixels, no ads.</footer>
</body></html>`;
}
