import { Controller, Get, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminRequest } from '../auth/admin-auth.guard';
import { adminPage, esc } from '../view/layout';
import { sendPage } from '../view/respond';
import { hbarChart, lineChart, stackedChart, STATUS_COLORS } from './charts';
import { DashboardRepository } from './dashboard.repository';

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '—');

@ApiTags('admin: dashboard')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller()
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class DashboardController {
  constructor(private readonly repo: DashboardRepository) {}

  @Get('admin')
  @ApiExcludeEndpoint()
  async page(@Req() req: AdminRequest, @Res() res: Response): Promise<void> {
    const d = await this.repo.load();
    const subscribers = Object.values(d.statusCounts).reduce((a, b) => a + b, 0);
    const active = d.statusCounts.active ?? 0;
    const sentTotal = (d.emailsByStatus.sent ?? []).reduce((a, b) => a + b, 0);
    const body = `<h1>At a glance</h1>
<div class="kpis"><div class="kpi"><b>${subscribers.toLocaleString('en')}</b>subscribers</div><div class="kpi"><b>${active.toLocaleString('en')}</b>active</div>
<div class="kpi"><b>${sentTotal.toLocaleString('en')}</b>emails sent (30 days)</div><div class="kpi"><b>${pct(d.deliveries30d.failed, d.deliveries30d.total)}</b>failed deliveries (30 days)</div>
<div class="kpi"><b>${pct(d.deliveries30d.bounced, active + d.deliveries30d.bounced)}</b>bounce rate (30 days)</div><div class="kpi"><b>${pct(d.unsubscribed30d, active + d.unsubscribed30d)}</b>unsubscribe rate (30 days)</div></div>
<div class="row" style="margin-top:1rem"><div class="card"><h2 style="margin-top:0">Emails per day by status</h2>${stackedChart(d.days, d.emailsByStatus, { title: 'Emails per day by status, last 30 days' })}</div>
<div class="card"><h2 style="margin-top:0">Subscribers over time</h2>${lineChart(d.subscribersByDay.map((p) => ({ label: p.day, value: p.total })), { title: 'Subscribers, last 30 days' })}</div></div>
<div class="row"><div class="card"><h2 style="margin-top:0">Top topics</h2>${d.topTopics.length ? hbarChart(d.topTopics.map((t) => ({ label: t.query, value: t.subscribers })), { title: 'Topics by subscribers', unit: 'subscribers' }) : '<p class="muted">No topics yet.</p>'}</div>
<div class="card"><h2 style="margin-top:0">Subscribers by status</h2><table><tbody>${Object.entries(d.statusCounts)
      .map(([s, n]) => `<tr><td><span class="badge ${esc(s)}">${esc(s)}</span></td><td class="num">${n.toLocaleString('en')}</td></tr>`)
      .join('')}</tbody></table><p class="muted">Colours in the email chart: ${Object.keys(STATUS_COLORS).map((s) => esc(s)).join(', ')}.</p></div></div>`;
    sendPage(res, adminPage('Dashboard', body, { csrf: req.admin.csrf, email: req.admin.email, current: '/admin' }));
  }

  @Get('api/admin/stats')
  @ApiOperation({ summary: 'The dashboard numbers: emails per day by status, subscribers over time, top topics, rates (30 days)' })
  @ApiOkResponse({ schema: { example: { days: ['2026-11-22', '2026-11-23'], emailsByStatus: { sent: [120, 98], failed: [1, 0] }, subscribersByDay: [{ day: '2026-11-22', total: 1000 }], statusCounts: { active: 950, unsubscribed: 50 }, topTopics: [{ query: 'diffusion models', subscribers: 310 }], deliveries30d: { total: 219, failed: 1, bounced: 0 }, unsubscribed30d: 3 } } })
  stats() {
    return this.repo.load();
  }
}
