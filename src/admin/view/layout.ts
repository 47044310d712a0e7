import { escapeHtml } from '../../web/html';

export const esc = (v: unknown): string => escapeHtml(v === null || v === undefined ? '' : String(v));

/**
 * Admin pages run no script at all: the CSP has no script-src (default-src 'none'), so even a
 * stored string that escaped escaping could not run. The email preview is a sandboxed srcdoc frame.
 */
export const ADMIN_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS = `
:root{--ink:#1c2330;--ink2:#3b4452;--ink3:#5f6b7a;--line:#dfe2e7;--bg:#f4f5f7;--card:#fff;--accent:#3442b8;--err:#b42318;--err-bg:#fef3f2;--ok:#067647;--ok-bg:#ecfdf3;--warn:#b54708}
*{box-sizing:border-box}
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);background:var(--bg);margin:0}
a{color:var(--accent)}
nav.top{background:#1c2330;color:#fff;display:flex;flex-wrap:wrap;gap:.25rem 1.1rem;align-items:center;padding:.6rem 1.25rem}
nav.top a{color:#dfe3ff;text-decoration:none;font-weight:600}nav.top a[aria-current=page]{color:#fff;text-decoration:underline}
nav.top .brand{font-weight:800;letter-spacing:.05em;text-transform:uppercase;color:#fff;margin-right:.75rem}
nav.top form{margin-left:auto}nav.top button{background:transparent;border:1px solid #5f6b7a;color:#fff;padding:.25rem .7rem;min-height:0}
main{max-width:80rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.45rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem 1.25rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--ink3);font-weight:650}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;width:1%;white-space:nowrap}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:0 0 1rem}
label{display:block;font-weight:600;font-size:.88rem;margin:0 0 .2rem}
input,select,textarea{font:inherit;padding:.4rem .55rem;border:1px solid #b8bfca;border-radius:6px;background:#fff;color:var(--ink)}
textarea{width:100%;min-height:7rem}
button,.button{font:inherit;font-weight:650;padding:.45rem .9rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:transparent;color:var(--accent)}
button.danger{background:var(--err);border-color:var(--err)}
.inline{display:inline}
.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.row>*{flex:1 1 20rem}
.alert{border-radius:8px;padding:.7rem 1rem;margin:0 0 1rem}.alert.err{background:var(--err-bg);color:var(--err)}.alert.ok{background:var(--ok-bg);color:var(--ok)}
.muted{color:var(--ink3);font-size:.9rem}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;font-weight:650;background:#eceefc;color:#2a3594}
.badge.sent,.badge.active{background:var(--ok-bg);color:var(--ok)}.badge.failed,.badge.bounced{background:var(--err-bg);color:var(--err)}
.badge.suspended,.badge.retry,.badge.unknown{background:#fffaeb;color:var(--warn)}.badge.unsubscribed,.badge.skipped{background:#f2f4f7;color:#475467}
.kpis{display:flex;flex-wrap:wrap;gap:1rem}.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem 1rem;min-width:10rem}
.kpi b{display:block;font-size:1.5rem}
.pager{display:flex;gap:.75rem;margin:1rem 0}
iframe.preview{width:100%;height:70vh;border:1px solid var(--line);border-radius:8px;background:#fff}
code,pre{font-size:.85em}pre{white-space:pre-wrap;background:#f2f4f7;padding:.6rem;border-radius:6px}
svg text{font:11px sans-serif;fill:#3b4452}
progress{width:100%;height:1.2rem}
`;

const NAV: [string, string][] = [
  ['/admin', 'Dashboard'],
  ['/admin/subscribers', 'Subscribers'],
  ['/admin/digests', 'Digests'],
  ['/admin/sends', 'Sends'],
  ['/admin/deliveries', 'Delivery log'],
  ['/admin/tokens', 'API tokens'],
  ['/admin/queues', 'Queues'],
  ['/admin/account', 'Account'],
];

export interface Shell {
  csrf?: string;
  email?: string;
  /** Which nav entry is current. */
  current?: string;
  flash?: { kind: 'ok' | 'err'; text: string };
  /** Seconds: reload the page (the import progress page; no script needed). */
  refresh?: number;
}

/** A hidden CSRF field for a form. */
export const csrfField = (csrf: string | undefined) => `<input type="hidden" name="_csrf" value="${esc(csrf)}">`;

/** A one-button POST form (every state change is a POST with the CSRF token). */
export function postButton(action: string, label: string, csrf: string | undefined, opts: { danger?: boolean; secondary?: boolean; fields?: Record<string, string> } = {}): string {
  const extra = Object.entries(opts.fields ?? {})
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const cls = opts.danger ? ' class="danger"' : opts.secondary ? ' class="secondary"' : '';
  return `<form class="inline" method="post" action="${esc(action)}">${csrfField(csrf)}${extra}<button${cls}>${esc(label)}</button></form>`;
}

export function adminPage(title: string, body: string, shell: Shell = {}): string {
  const nav = shell.email
    ? `<nav class="top" aria-label="Admin"><span class="brand">Paperboy admin</span>${NAV.map(
        ([href, label]) => `<a href="${href}"${shell.current === href ? ' aria-current="page"' : ''}>${label}</a>`,
      ).join('')}<form method="post" action="/admin/logout">${csrfField(shell.csrf)}<button title="${esc(shell.email)}">Log out</button></form></nav>`
    : `<nav class="top"><span class="brand">Paperboy admin</span></nav>`;
  const flash = shell.flash ? `<div class="alert ${shell.flash.kind}" role="status">${esc(shell.flash.text)}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">${shell.refresh ? `<meta http-equiv="refresh" content="${shell.refresh}">` : ''}
<title>${esc(title)} · Paperboy admin</title><style>${CSS}</style></head>
<body>${nav}<main id="main">${flash}${body}</main></body></html>`;
}

export const fmtDate = (d: Date | null | undefined) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '');
export const badge = (s: string) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;
