import { BadRequestException, Body, Controller, Get, Param, ParseIntPipe, Post, Query, Req, Res, UploadedFile, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminRequest } from '../auth/admin-auth.guard';
import { hbarChart } from '../dashboard/charts';
import { adminPage, badge, esc, fmtDate, Shell } from '../view/layout';
import { redirectTo, sendPage } from '../view/respond';
import { AdminDigestsService } from './admin-digests.service';

/** The part of multer's file object we use (multer ships with @nestjs/platform-express; its types are not installed). */
export interface UploadedText {
  buffer: Buffer;
  originalname: string;
}

export const UPLOAD_LIMITS = { limits: { fileSize: 10 * 1024 * 1024, files: 1 } };

export const yearParam = (raw: unknown): number | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const y = Number(raw);
  if (!Number.isInteger(y) || y < 1990 || y > 2100) throw new BadRequestException('year: a year between 1990 and 2100');
  return y;
};

@ApiExcludeController()
@Controller('admin/digests')
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class DigestsPagesController {
  constructor(private readonly digests: AdminDigestsService) {}

  @Get()
  async list(@Req() req: AdminRequest, @Query() q: Record<string, string>, @Res() res: Response): Promise<void> {
    sendPage(res, await this.listHtml(req, q));
  }

  /** Multipart (a file): the CSRF token rides in the action URL, since the guard runs before the body is parsed. */
  @Post('upload')
  @UseInterceptors(FileInterceptor('file', UPLOAD_LIMITS))
  async upload(@Req() req: AdminRequest, @UploadedFile() file: UploadedText | undefined, @Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    try {
      const text = file ? file.buffer.toString('utf8') : String(body.text ?? '');
      const r = await this.digests.upload(text, { year: yearParam(body.year), source: body.source?.trim() || undefined });
      redirectTo(res, `/admin/digests/${r.digestId}`, r.created ? 'created' : 'duplicate');
    } catch (e) {
      if (!(e instanceof BadRequestException)) throw e;
      sendPage(res, await this.listHtml(req, {}, { kind: 'err', text: `Not ingested: ${e.message}` }), 400);
    }
  }

  @Get(':id')
  async detail(@Req() req: AdminRequest, @Param('id', ParseIntPipe) id: number, @Query('done') done: string | undefined, @Res() res: Response): Promise<void> {
    const d = await this.digests.detail(id);
    const flash: Shell['flash'] =
      done === 'created' ? { kind: 'ok', text: 'Digest stored; matching is queued.' } : done === 'duplicate' ? { kind: 'ok', text: 'This digest had been ingested before: nothing new stored.' } : undefined;
    const papers = d.papers
      .map((p) => `<tr><td class="num">${p.position + 1}</td><td>${p.url ? `<a href="${esc(p.url)}" rel="noreferrer noopener">${esc(p.title)}</a>` : esc(p.title)}<div class="muted">${esc(p.authors.slice(0, 4).join(', '))}${p.authors.length > 4 ? ' …' : ''}</div></td><td class="num">${p.topics}</td><td class="num">${p.subscribers}</td></tr>`)
      .join('');
    const topics = d.topics.map((t) => `<tr><td>${esc(t.query)}</td><td class="num">${t.papers}</td><td class="num">${t.subscribers}</td></tr>`).join('');
    const body = `<p><a href="/admin/digests">← Digests</a></p><h1>Digest ${d.id}: ${esc(d.source)}, ${d.digestDate.toISOString().slice(0, 10)}</h1>
<p>${badge(d.status)} · ${d.paperCount} papers · ingested ${fmtDate(d.createdAt)}${d.matchedAt ? ` · matched ${fmtDate(d.matchedAt)}` : ''} · <a href="/admin/sends/dry-run?digest=${d.id}">Send this digest…</a></p>
${d.topics.length ? `<div class="card"><h2 style="margin-top:0">Top topics</h2>${hbarChart(d.topics.slice(0, 15).map((t) => ({ label: t.query, value: t.papers })), { title: 'Papers matched per topic', unit: 'papers' })}</div>` : ''}
<div class="row"><div><h2>Papers</h2><table><thead><tr><th class="num">#</th><th>Paper</th><th class="num">Topics</th><th class="num">Subscribers</th></tr></thead><tbody>${papers}</tbody></table></div>
<div><h2>Per topic</h2><table><thead><tr><th>Topic</th><th class="num">Papers</th><th class="num">Subscribers</th></tr></thead><tbody>${topics || '<tr><td colspan="3" class="muted">No matches (yet).</td></tr>'}</tbody></table></div></div>`;
    sendPage(res, adminPage(`Digest ${d.id}`, body, { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/digests', flash }));
  }

  private async listHtml(req: AdminRequest, q: Record<string, string>, flash?: Shell['flash']): Promise<string> {
    const page = await this.digests.list(q);
    const rows = page.rows
      .map(
        (d) => `<tr><td class="num"><a href="/admin/digests/${d.id}">${d.id}</a></td><td>${d.digestDate.toISOString().slice(0, 10)}</td><td>${esc(d.source)}</td><td>${badge(d.status)}</td>
<td class="num">${d.paperCount}</td><td class="num">${d.matches}</td><td class="num">${d.subscribers}</td><td>${fmtDate(d.createdAt)}</td></tr>`,
      )
      .join('');
    const body = `<h1>Digests</h1>
<div class="card"><h2 style="margin-top:0">Upload a digest</h2>
<form method="post" action="/admin/digests/upload?_csrf=${encodeURIComponent(req.admin.csrf ?? '')}" enctype="multipart/form-data" class="filters">
<div><label for="file">Daily-papers page (.txt) or JSON digest</label><input id="file" name="file" type="file" accept=".txt,.json,text/plain,application/json" required></div>
<div><label for="year">Year (for dates without one)</label><input id="year" name="year" inputmode="numeric" size="6"></div>
<div><label for="source">Source name (pages)</label><input id="source" name="source" placeholder="daily-papers"></div><button>Ingest</button></form></div>
<table><thead><tr><th class="num">Id</th><th>Date</th><th>Source</th><th>Status</th><th class="num">Papers</th><th class="num">Matches</th><th class="num">Subscribers</th><th>Ingested</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8" class="muted">No digests yet.</td></tr>'}</tbody></table>
<div class="pager">${page.next ? `<a rel="next" href="/admin/digests?before=${page.next}">Older →</a>` : ''}</div>`;
    return adminPage('Digests', body, { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/digests', flash });
  }
}
