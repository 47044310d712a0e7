import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

/**
 * The only script of the public site, a small progressive enhancement: every page works without
 * it. It pre-selects the browser's time zone and keeps the alert preview live while typing.
 * Served from our origin so the pages' CSP can forbid inline script.
 */
export const APP_JS = `(() => {
  'use strict';
  const tz = document.querySelector('select[data-auto-timezone]');
  if (tz && tz.value === 'UTC') {
    try {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && [...tz.options].some((o) => o.value === zone)) tz.value = zone;
    } catch (e) {}
  }
  const topics = document.getElementById('topics');
  const target = document.getElementById('preview-body');
  if (!topics || !target) return;
  const el = (tag, cls, text) => { const n = document.createElement(tag); if (cls) n.className = cls; if (text !== undefined) n.textContent = text; return n; };
  const render = (alerts) => {
    target.replaceChildren();
    if (!alerts.length) { target.append(el('p', 'muted', 'No alerts yet.')); return; }
    const list = el('ol');
    for (const a of alerts) {
      const li = el('li', 'alert-preview');
      const h = el('h3');
      h.append(el('span', 'chip', a.topic));
      if (!a.error) h.append(' ', el('span', 'muted', a.total + (a.total === 1 ? ' paper' : ' papers')));
      li.append(h);
      if (a.error) li.append(el('p', 'error', a.error));
      else if (!a.papers.length) li.append(el('p', 'muted', 'Nothing in the last 30 days. Try fewer or broader words.'));
      else {
        const ul = el('ul', 'papers');
        for (const p of a.papers) {
          const item = el('li');
          if (p.url && /^https?:\\/\\//.test(p.url)) { const link = el('a', '', p.title); link.href = p.url; link.rel = 'noopener noreferrer'; item.append(link); }
          else item.append(p.title);
          item.append(el('span', 'why', p.date + ' · ' + p.why));
          ul.append(item);
        }
        li.append(ul);
      }
      list.append(li);
    }
    target.append(list);
  };
  let timer, seq = 0;
  const update = () => {
    const mine = ++seq;
    const lines = topics.value.split('\\n').map((s) => s.trim()).filter(Boolean).slice(0, 20);
    if (!lines.length) { render([]); return; }
    target.setAttribute('aria-busy', 'true');
    fetch('/api/preview', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topics: lines }), credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : null))
      .then((body) => { if (body && mine === seq) render(body.alerts); })
      .catch(() => {})
      .finally(() => { if (mine === seq) target.removeAttribute('aria-busy'); });
  };
  topics.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, 450); });
  if (topics.value.trim() && !target.querySelector('.alert-preview')) update();
})();
`;

@ApiExcludeController()
@Controller('assets')
export class AssetsController {
  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  script(): string {
    return APP_JS;
  }
}
