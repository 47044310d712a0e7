import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminRequest } from '../auth/admin-auth.guard';
import { barChart } from '../dashboard/charts';
import { adminPage, badge, csrfField, esc, fmtDate, postButton, Shell } from '../view/layout';
import { redirectTo, sendPage } from '../view/respond';
import { AdminSendsService, DELIVERY_STATUSES } from './admin-sends.service';
import { previewFrame } from './preview-frame';

const FLASH: Record<string, string> = {
  paused: 'Sending paused: queued emails wait until you resume.',
  resumed: 'Sending resumed.',
  cancelled: 'Cancelled: the emails not yet sent will not go; their papers wait for the next email.',
  retried: 'Failed deliveries queued again.',
  queued: 'Emails queued: watch them go out below.',
};

export const digestParam = (raw: unknown): number | undefined => {
  if (raw === undefined || raw === '' || raw === null) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(String(raw))) throw new BadRequestException('digest: not a digest id');
  return Number(raw);
};

@ApiExcludeController()
@Controller('admin')
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class SendsPagesController {
  constructor(
    private readonly sends: AdminSendsService,
    private readonly config: AppConfig,
  ) {}

  @Get('sends')
  async sendsPage(@Req() req: AdminRequest, @Query() q: Record<string, string>, @Res() res: Response): Promise<void> {
    const csrf = req.admin.csrf;
    const [paused, issues] = await Promise.all([this.sends.isPaused(), this.sends.recentIssues()]);
    const rows = issues
      .map((i) => {
        const open = (i.counts.pending ?? 0) + (i.counts.retry ?? 0);
        return `<tr><td><a href="/admin/deliveries?issue=${encodeURIComponent(i.issueKey)}">${esc(i.issueKey)}</a></td><td>${fmtDate(i.startedAt)}</td>
<td>${Object.entries(i.counts).map(([s, n]) => `${badge(s)} ${n}`).join(' ')}</td><td>${open ? postButton('/admin/sends/cancel', `Cancel ${open} unsent`, csrf, { danger: true, fields: { issue: i.issueKey } }) : ''}</td></tr>`;
      })
      .join('');
    const body = `<h1>Sends</h1>
<div class="card"><h2 style="margin-top:0">Send now</h2><p>Start with a dry run: it shows how many emails would go and lets you preview and test-send any of them.</p>
<form class="filters" method="get" action="/admin/sends/dry-run"><div><label for="digest">Digest id (empty: everyone with undelivered papers)</label><input id="digest" name="digest" inputmode="numeric" value="${esc(q.digest)}"></div><button>Dry run</button></form>
<form class="filters" method="get" action="/admin/sends/dry-run"><input type="hidden" name="due" value="1"><button class="secondary">Dry run: everyone due now (daily and weekly subscribers whose hour has come)</button></form></div>
<div class="card"><h2 style="margin-top:0">Queue</h2><p>Sending is <b>${paused ? 'paused' : 'running'}</b>. ${paused ? postButton('/admin/sends/resume', 'Resume sending', csrf) : postButton('/admin/sends/pause', 'Pause sending', csrf, { secondary: true })}</p></div>
<h2>Recent issues (30 days)</h2><table><thead><tr><th>Issue</th><th>Started</th><th>Deliveries</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="4" class="muted">Nothing sent yet.</td></tr>'}</tbody></table>`;
    sendPage(res, adminPage('Sends', body, this.shell(req, q.done)));
  }

  @Get('sends/dry-run')
  async dryRun(@Req() req: AdminRequest, @Query('digest') rawDigest: string | undefined, @Query('due') rawDue: string | undefined, @Res() res: Response): Promise<void> {
    const due = rawDue === '1';
    const digestId = due ? undefined : digestParam(rawDigest);
    const r = await this.sends.dryRun({ digestId, due });
    const max = this.config.env.MAX_PAPERS_PER_EMAIL;
    const chart = barChart(
      r.distribution.map(([papers, emails]) => ({ label: String(papers), value: emails })),
      { title: 'Emails by number of papers', unit: 'emails' },
    );
    const scope = due ? 'everyone due now' : digestId ? `digest ${digestId}` : 'everyone with undelivered papers';
    const sample = r.sample
      .map((s) => `<tr><td>${esc(s.email)}</td><td class="num">${s.papers}</td><td><a href="/admin/sends/preview?subscriber=${s.subscriberId}${digestId ? `&amp;digest=${digestId}` : ''}">Preview</a></td></tr>`)
      .join('');
    const body = `<p><a href="/admin/sends">← Sends</a></p><h1>Dry run: ${esc(scope)}</h1>
<div class="kpis"><div class="kpi"><b>${r.emails}</b>emails would go</div><div class="kpi"><b>${r.papers}</b>papers in all</div><div class="kpi"><b>${r.paused}</b>paused (skipped)</div><div class="kpi"><b>${max}</b>papers shown per email at most</div></div>
<div class="card" style="margin-top:1rem"><h2 style="margin-top:0">Papers per email</h2>${r.distribution.length ? chart : '<p class="muted">Nothing to send.</p>'}
<table><thead><tr><th class="num">Papers</th><th class="num">Emails</th></tr></thead><tbody>${r.distribution.map(([p, n]) => `<tr><td class="num">${p}</td><td class="num">${n}</td></tr>`).join('')}</tbody></table></div>
${r.emails ? `<form method="post" action="/admin/sends/send">${csrfField(req.admin.csrf)}<input type="hidden" name="digest" value="${digestId ?? ''}"><input type="hidden" name="due" value="${due ? '1' : ''}"><button>Send ${r.emails} email(s) now</button></form>` : ''}
<h2>Recipients${r.sample.length < r.emails ? ` (first ${r.sample.length})` : ''}</h2><table><thead><tr><th>Email</th><th class="num">Papers</th><th></th></tr></thead><tbody>${sample || '<tr><td colspan="3" class="muted">None.</td></tr>'}</tbody></table>`;
    sendPage(res, adminPage('Dry run', body, this.shell(req)));
  }

  @Get('sends/preview')
  async preview(@Req() req: AdminRequest, @Query('subscriber') subscriber: string, @Query('digest') rawDigest: string | undefined, @Res() res: Response): Promise<void> {
    sendPage(res, await this.previewHtml(req, String(subscriber ?? ''), digestParam(rawDigest)));
  }

  @Post('sends/test')
  @HttpCode(200)
  async testSend(@Req() req: AdminRequest, @Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    const digestId = digestParam(body.digest);
    try {
      const r = await this.sends.testSend(String(body.subscriber ?? ''), String(body.to ?? ''));
      sendPage(res, await this.previewHtml(req, body.subscriber, digestId, { kind: 'ok', text: `Test email sent to ${r.to}.` }));
    } catch (e) {
      if (!(e instanceof BadRequestException)) throw e;
      sendPage(res, await this.previewHtml(req, body.subscriber, digestId, { kind: 'err', text: e.message }), 400);
    }
  }

  @Post('sends/send')
  async send(@Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    const due = body.due === '1';
    const r = await this.sends.sendNow(due ? { due } : { digestId: digestParam(body.digest) });
    redirectTo(res, r.issueKey ? `/admin/deliveries?issue=${encodeURIComponent(r.issueKey)}&refresh=2` : '/admin/deliveries?refresh=2', 'queued');
  }

  @Post('sends/pause')
  async pause(@Res() res: Response): Promise<void> {
    await this.sends.pause();
    redirectTo(res, '/admin/sends', 'paused');
  }

  @Post('sends/resume')
  async resume(@Res() res: Response): Promise<void> {
    await this.sends.resume();
    redirectTo(res, '/admin/sends', 'resumed');
  }

  @Post('sends/cancel')
  async cancel(@Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    await this.sends.cancel(String(body.issue ?? ''));
    redirectTo(res, '/admin/sends', 'cancelled');
  }

  @Get('deliveries')
  async deliveries(@Req() req: AdminRequest, @Query() q: Record<string, string>, @Res() res: Response): Promise<void> {
    const log = await this.sends.deliveryLog(q);
    const f = log.filter;
    const params = new URLSearchParams(Object.entries({ status: f.status, subscriber: f.subscriber, issue: f.issueKey }).filter((e): e is [string, string] => !!e[1]));
    const refresh = q.refresh === '2' || q.refresh === '5' ? Number(q.refresh) : undefined;
    const rows = log.rows
      .map(
        (d) => `<tr><td class="num">${d.id}</td><td><a href="/admin/subscribers/${d.subscriberId}">${esc(d.email)}</a></td><td>${esc(d.issueKey)}</td><td>${badge(d.status)}</td>
<td class="num">${d.paperCount}</td><td class="num">${d.attempts}</td><td><code>${esc(d.smtpResponse ?? '')}</code>${d.lastError && d.lastError !== d.smtpResponse ? `<div class="muted">${esc(d.lastError)}</div>` : ''}</td>
<td>${fmtDate(d.sentAt ?? d.createdAt)}</td><td>${d.status === 'failed' ? postButton('/admin/deliveries/retry', 'Retry', req.admin.csrf, { secondary: true, fields: { id: String(d.id) } }) : ''}</td></tr>`,
      )
      .join('');
    const opt = DELIVERY_STATUSES.map((s) => `<option${s === f.status ? ' selected' : ''}>${s}</option>`).join('');
    const body = `<h1>Delivery log</h1>
<form class="filters" method="get" action="/admin/deliveries"><div><label for="status">Status</label><select id="status" name="status"><option value="">any</option>${opt}</select></div>
<div><label for="subscriber">Subscriber email</label><input id="subscriber" name="subscriber" type="email" value="${esc(f.subscriber)}"></div>
<div><label for="issue">Issue</label><input id="issue" name="issue" value="${esc(f.issueKey)}"></div><button>Filter</button>
${refresh ? `<a class="button secondary" href="/admin/deliveries?${esc(params.toString())}">Stop auto-refresh</a>` : `<a class="button secondary" href="/admin/deliveries?${esc(new URLSearchParams([...params, ['refresh', '2']]).toString())}">Auto-refresh</a>`}</form>
<p>${postButton('/admin/deliveries/retry', 'Retry all failed', req.admin.csrf, { secondary: true })}</p>
<table><thead><tr><th class="num">Id</th><th>Subscriber</th><th>Issue</th><th>Status</th><th class="num">Papers</th><th class="num">Attempts</th><th>SMTP reply</th><th>When</th><th></th></tr></thead>
<tbody>${rows || '<tr><td colspan="9" class="muted">No deliveries match.</td></tr>'}</tbody></table>
<div class="pager">${log.next ? `<a rel="next" href="/admin/deliveries?${esc(new URLSearchParams([...params, ['before', String(log.next)]]).toString())}">Older →</a>` : ''}</div>`;
    sendPage(res, adminPage('Delivery log', body, { ...this.shell(req, q.done), current: '/admin/deliveries', refresh }));
  }

  @Post('deliveries/retry')
  async retry(@Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    const id = body.id ? Number(body.id) : undefined;
    if (id !== undefined && !(Number.isInteger(id) && id > 0)) throw new BadRequestException('id: not a delivery id');
    await this.sends.retryFailed(id ? [id] : undefined);
    redirectTo(res, '/admin/deliveries?refresh=2', 'retried');
  }

  private shell(req: AdminRequest, done?: string, flash?: Shell['flash']): Shell {
    return { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/sends', flash: flash ?? (done && FLASH[done] ? { kind: 'ok', text: FLASH[done] } : undefined) };
  }

  private async previewHtml(req: AdminRequest, subscriber: string, digestId: number | undefined, flash?: Shell['flash']): Promise<string> {
    let p;
    try {
      p = await this.sends.preview(subscriber);
    } catch (e) {
      if (e instanceof BadRequestException || e instanceof NotFoundException)
        return adminPage('Preview', `<p><a href="/admin/sends">← Sends</a></p><h1>Preview</h1>`, this.shell(req, undefined, { kind: 'err', text: e.message }));
      throw e;
    }
    const back = `/admin/sends/dry-run${digestId ? `?digest=${digestId}` : ''}`;
    const body = `<p><a href="${back}">← Dry run</a></p><h1>Preview: ${esc(p.to)}</h1>
<p><b>Subject:</b> ${esc(p.subject)} <span class="muted">· ${p.papers} paper(s)</span></p>
<div class="card"><form class="filters" method="post" action="/admin/sends/test">${csrfField(req.admin.csrf)}<input type="hidden" name="subscriber" value="${esc(subscriber)}"><input type="hidden" name="digest" value="${digestId ?? ''}">
<div><label for="to">Send this email as a test to</label><input id="to" name="to" type="email" required value="${esc(req.admin.email)}"></div><button>Send test</button></form>
<p class="muted">The test copy's links are signed for a throwaway id: clicking them cannot change this subscriber.</p></div>
${previewFrame(p.html, `Email to ${p.to}`)}
<h2>Plain-text part</h2><pre>${esc(p.text)}</pre>`;
    return adminPage('Preview', body, this.shell(req, undefined, flash));
  }
}
