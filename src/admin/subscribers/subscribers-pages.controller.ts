import { BadRequestException, Body, NotFoundException, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminRequest } from '../auth/admin-auth.guard';
import { adminPage, badge, csrfField, esc, fmtDate, postButton } from '../view/layout';
import { redirectTo, sendPage } from '../view/respond';
import { AdminSubscribersService, FREQUENCIES, ListQuery, STATUSES } from './admin-subscribers.service';

const FLASH: Record<string, string> = {
  saved: 'Saved.',
  suspend: 'Subscriber suspended: nothing is sent until resumed.',
  resume: 'Subscriber resumed.',
  unsubscribe: 'Subscriber unsubscribed.',
  erase: 'Subscriber erased. Their address is kept only as a keyed hash, so no import brings it back.',
  noop: 'Nothing changed: the subscriber was not in a state that action applies to.',
};

const SORT_LABELS: Record<string, string> = { created_desc: 'Newest first', created_asc: 'Oldest first', email_asc: 'Email A–Z', email_desc: 'Email Z–A' };

const qs = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1])).toString();

@ApiExcludeController()
@Controller('admin/subscribers')
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class SubscribersPagesController {
  constructor(private readonly subscribers: AdminSubscribersService) {}

  @Get()
  async list(@Req() req: AdminRequest, @Query() query: ListQuery & { done?: string }, @Res() res: Response): Promise<void> {
    let page;
    try {
      page = await this.subscribers.list(query);
    } catch (e) {
      if (!(e instanceof BadRequestException)) throw e;
      return sendPage(res, adminPage('Subscribers', `<h1>Subscribers</h1><p><a href="/admin/subscribers">Clear the filters</a></p>`, this.shell(req, { kind: 'err', text: e.message })), 400);
    }
    const f = page.filter;
    const params = { q: f.q, topic: f.topic, status: f.status, frequency: f.frequency, sort: page.sort === 'created_desc' ? undefined : page.sort };
    const opt = (values: string[], current: string | undefined, labels?: Record<string, string>) =>
      values.map((v) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(labels?.[v] ?? v)}</option>`).join('');
    const rows = page.rows
      .map(
        (s) => `<tr><td><a href="/admin/subscribers/${s.id}">${esc(s.email)}</a></td><td>${badge(s.status)}</td><td>${esc(s.frequency)}</td>
<td>${s.topics.map((t) => `<span class="badge">${esc(t)}</span>`).join(' ')}</td><td>${fmtDate(s.createdAt)}</td></tr>`,
      )
      .join('');
    const body = `<h1>Subscribers</h1>
<form class="filters" method="get" action="/admin/subscribers" role="search">
<div><label for="q">Email contains</label><input id="q" name="q" value="${esc(f.q)}" placeholder="@example.org"></div>
<div><label for="topic">Topic contains</label><input id="topic" name="topic" value="${esc(f.topic)}" placeholder="diffusion"></div>
<div><label for="status">Status</label><select id="status" name="status"><option value="">any</option>${opt(STATUSES, f.status)}</select></div>
<div><label for="frequency">Frequency</label><select id="frequency" name="frequency"><option value="">any</option>${opt(FREQUENCIES, f.frequency)}</select></div>
<div><label for="sort">Sort</label><select id="sort" name="sort">${opt(Object.keys(SORT_LABELS), page.sort, SORT_LABELS)}</select></div>
<button>Search</button> <a class="button secondary" href="/admin/subscribers/export.csv?${esc(qs(params))}">Export CSV</a> <a class="button secondary" href="/admin/import">Import CSV</a></form>
<p class="muted">About ${page.estimatedTotal.toLocaleString('en')} subscribers in all.</p>
<table><thead><tr><th>Email</th><th>Status</th><th>Frequency</th><th>Topics</th><th>Created (UTC)</th></tr></thead>
<tbody>${rows || '<tr><td colspan="5" class="muted">No subscriber matches.</td></tr>'}</tbody></table>
<div class="pager">${query.after ? `<a href="/admin/subscribers?${esc(qs(params))}">First page</a>` : ''}${page.next ? `<a rel="next" href="/admin/subscribers?${esc(qs({ ...params, after: page.next }))}">Next page →</a>` : ''}</div>`;
    sendPage(res, adminPage('Subscribers', body, this.shell(req, query.done && FLASH[query.done] ? { kind: 'ok', text: FLASH[query.done] } : undefined)));
  }

  @Get('export.csv')
  async export(@Query() query: ListQuery, @Res() res: Response): Promise<void> {
    await streamCsv(res, this.subscribers.exportCsv(query));
  }

  @Get(':id')
  async detail(@Req() req: AdminRequest, @Param('id') id: string, @Query('done') done: string | undefined, @Res() res: Response): Promise<void> {
    sendPage(res, await this.detailHtml(req, id, done && FLASH[done] ? { kind: 'ok', text: FLASH[done] } : undefined));
  }

  @Post(':id')
  async update(@Req() req: AdminRequest, @Param('id') id: string, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    try {
      await this.subscribers.update(id, body);
    } catch (e) {
      if (e instanceof BadRequestException) return sendPage(res, await this.detailHtml(req, id, { kind: 'err', text: e.message }), 400);
      throw e;
    }
    redirectTo(res, `/admin/subscribers/${id}`, 'saved');
  }

  @Post(':id/:action')
  async act(@Param('id') id: string, @Param('action') action: string, @Res() res: Response): Promise<void> {
    if (!['suspend', 'resume', 'unsubscribe', 'delete'].includes(action)) throw new NotFoundException();
    const a = action === 'delete' ? 'erase' : (action as 'suspend' | 'resume' | 'unsubscribe');
    const changed = await this.subscribers.act(id, a);
    if (a === 'erase') return redirectTo(res, '/admin/subscribers', 'erase');
    redirectTo(res, `/admin/subscribers/${id}`, changed ? a : 'noop');
  }

  private shell(req: AdminRequest, flash?: { kind: 'ok' | 'err'; text: string }) {
    return { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/subscribers', flash };
  }

  private async detailHtml(req: AdminRequest, id: string, flash?: { kind: 'ok' | 'err'; text: string }): Promise<string> {
    const s = await this.subscribers.detail(id);
    const csrf = req.admin.csrf;
    const actions = [
      s.status === 'active' ? postButton(`/admin/subscribers/${s.id}/suspend`, 'Suspend', csrf, { secondary: true }) : '',
      s.status === 'suspended' ? postButton(`/admin/subscribers/${s.id}/resume`, 'Resume', csrf) : '',
      s.status !== 'unsubscribed' ? postButton(`/admin/subscribers/${s.id}/unsubscribe`, 'Unsubscribe', csrf, { secondary: true }) : '',
      postButton(`/admin/subscribers/${s.id}/delete`, 'Erase (delete all data)', csrf, { danger: true }),
    ].join(' ');
    const consents = s.consents
      .map((c) => `<tr><td>${fmtDate(c.createdAt)}</td><td>${esc(c.action)}</td><td>${esc(c.source)}${c.formVersion ? ` <span class="muted">(${esc(c.formVersion)})</span>` : ''}</td><td>${c.topics.map((t) => esc(t)).join('<br>')}</td><td>${esc(c.ip)}</td></tr>`)
      .join('');
    const deliveries = s.deliveries
      .map(
        (d) => `<tr><td><a href="/admin/deliveries?subscriber=${esc(s.email)}">${d.id}</a></td><td>${esc(d.issueKey)}</td><td>${badge(d.status)}</td><td class="num">${d.paperCount}</td><td class="num">${d.attempts}</td>
<td>${esc(d.smtpResponse ?? d.lastError ?? '')}</td><td>${fmtDate(d.sentAt ?? d.createdAt)}</td></tr>`,
      )
      .join('');
    const matches = s.matches
      .map((m) => `<tr><td>${m.paper.url ? `<a href="${esc(m.paper.url)}" rel="noreferrer noopener">${esc(m.paper.title)}</a>` : esc(m.paper.title)}</td><td><a href="/admin/digests/${m.digestId}">${m.digestId}</a></td><td>${m.topics.map((t) => esc(t)).join(', ')}</td><td class="num">${m.score.toFixed(2)}</td><td>${m.deliveryId ? `delivery ${m.deliveryId}` : '<span class="muted">undelivered</span>'}</td></tr>`)
      .join('');
    const body = `<p><a href="/admin/subscribers">← Subscribers</a></p><h1>${esc(s.email)}</h1>
<div class="row"><div class="card"><p>${badge(s.status)} · ${esc(s.frequency)} · ${esc(s.timezone)} at ${s.sendHour}:00 · soft bounces ${s.softBounces}</p>
<p class="muted">Created ${fmtDate(s.createdAt)} · confirmed ${fmtDate(s.confirmedAt) || '—'} · consent source ${esc(s.consentSource ?? '—')}${s.unsubscribedAt ? ` · unsubscribed ${fmtDate(s.unsubscribedAt)}` : ''}${s.pausedUntil ? ` · paused until ${fmtDate(s.pausedUntil)}` : ''}</p>
<p>${actions}</p></div>
<div class="card"><h2 style="margin-top:0">Edit</h2><form method="post" action="/admin/subscribers/${s.id}">${csrfField(csrf)}
<p><label for="frequency">Frequency</label><select id="frequency" name="frequency">${FREQUENCIES.map((f) => `<option${f === s.frequency ? ' selected' : ''}>${f}</option>`).join('')}</select></p>
<p><label for="topics">Topics (one per line)</label><textarea id="topics" name="topics">${esc(s.topics.map((t) => t.label).join('\n'))}</textarea></p>
<button>Save</button></form></div></div>
<h2>Consent record</h2><table><thead><tr><th>When</th><th>Action</th><th>Source</th><th>Topics</th><th>IP</th></tr></thead><tbody>${consents || '<tr><td colspan="5" class="muted">None.</td></tr>'}</tbody></table>
<h2>Deliveries</h2><table><thead><tr><th>Id</th><th>Issue</th><th>Status</th><th class="num">Papers</th><th class="num">Attempts</th><th>SMTP reply / error</th><th>When</th></tr></thead><tbody>${deliveries || '<tr><td colspan="7" class="muted">None.</td></tr>'}</tbody></table>
<h2>Matched papers (latest 50)</h2><table><thead><tr><th>Paper</th><th>Digest</th><th>Topics</th><th class="num">Score</th><th>Delivered</th></tr></thead><tbody>${matches || '<tr><td colspan="5" class="muted">None.</td></tr>'}</tbody></table>`;
    return adminPage(s.email, body, this.shell(req, flash));
  }
}

/** Streams CSV chunks as a download (backpressure respected). */
export async function streamCsv(res: Response, chunks: AsyncIterable<string>, name = 'subscribers.csv'): Promise<void> {
  res.status(200).type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${name}"`).setHeader('Cache-Control', 'no-store');
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}
