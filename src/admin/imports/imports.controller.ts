import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Req, Res, UploadedFile, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminRequest } from '../auth/admin-auth.guard';
import { UPLOAD_LIMITS, UploadedText } from '../digests/digests-pages.controller';
import { adminPage, csrfField, esc, fmtDate, Shell } from '../view/layout';
import { redirectTo, sendPage } from '../view/respond';
import { AdminImportsService } from './admin-imports.service';

const REPORT_EXAMPLE = {
  id: '6f1d2c3b-0a9e-4c1b-8d7e-5f4a3b2c1d0e',
  mode: 'opt-in',
  status: 'checked',
  total: 2,
  processed: 0,
  imported: 0,
  report: { records: 4, valid: 2, invalidCount: 1, duplicateCount: 1, invalid: [{ line: 3, reason: '"not-an-address" is not a valid address' }], duplicates: [{ line: 5, reason: 'ada@example.org is also on line 2' }] },
};

@ApiTags('admin: subscribers')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller()
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class ImportsController {
  constructor(private readonly imports: AdminImportsService) {}

  @Get('admin/import')
  @ApiExcludeEndpoint()
  form(@Req() req: AdminRequest, @Res() res: Response): void {
    sendPage(res, this.formHtml(req));
  }

  @Post('admin/import')
  @ApiExcludeEndpoint()
  @UseInterceptors(FileInterceptor('file', UPLOAD_LIMITS))
  async checkPage(@Req() req: AdminRequest, @UploadedFile() file: UploadedText | undefined, @Body() body: Record<string, string>, @Res() res: Response): Promise<void> {
    try {
      if (!file) throw new BadRequestException('file: choose a CSV file');
      const id = await this.imports.check(req.admin.id, file.buffer.toString('utf8'), { mode: body.mode, consentNote: body.consent, frequency: body.frequency });
      redirectTo(res, `/admin/import/${id}`);
    } catch (e) {
      if (!(e instanceof BadRequestException)) throw e;
      sendPage(res, this.formHtml(req, { kind: 'err', text: e.message }), 400);
    }
  }

  @Get('admin/import/:id')
  @ApiExcludeEndpoint()
  async reportPage(@Req() req: AdminRequest, @Param('id') id: string, @Res() res: Response): Promise<void> {
    const imp = await this.imports.get(id);
    const r = imp.report;
    const list = (items: { line: number; reason: string }[], count: number) =>
      items.length
        ? `<table><thead><tr><th class="num">Line</th><th>Problem</th></tr></thead><tbody>${items.map((i) => `<tr><td class="num">${i.line}</td><td>${esc(i.reason)}</td></tr>`).join('')}</tbody></table>${count > items.length ? `<p class="muted">… and ${count - items.length} more.</p>` : ''}`
        : '<p class="muted">None.</p>';
    const how = imp.mode === 'confirmed' ? `added as <b>confirmed</b> subscribers, with your consent statement “${esc(imp.consentNote)}” recorded` : 'each sent a <b>confirmation email</b> (double opt-in); they join only if they confirm';
    let action = '';
    if (imp.status === 'checked')
      action = imp.total
        ? `<form method="post" action="/admin/import/${imp.id}/start">${csrfField(req.admin.csrf)}<button>Import ${imp.total} row(s)</button></form>`
        : '<p>Nothing to import.</p>';
    else if (imp.status === 'running') action = `<p><label for="progress">Importing: ${imp.processed} of ${imp.total}</label><progress id="progress" max="${imp.total}" value="${imp.processed}">${imp.processed} of ${imp.total}</progress></p>`;
    else action = `<div class="alert ok" role="status">Done${imp.finishedAt ? ` at ${fmtDate(imp.finishedAt)}` : ''}: ${imp.imported} of ${imp.total} row(s) imported.</div>`;
    const body = `<p><a href="/admin/import">← New import</a></p><h1>CSV import ${imp.status === 'checked' ? 'check (dry run)' : ''}</h1>
<div class="kpis"><div class="kpi"><b>${r.records}</b>rows in the file</div><div class="kpi"><b>${r.valid}</b>valid and new</div><div class="kpi"><b>${r.invalidCount}</b>invalid</div><div class="kpi"><b>${r.duplicateCount}</b>duplicates</div></div>
<div class="card" style="margin-top:1rem"><p>Valid rows will be ${how}.</p>${action}</div>
<h2>Invalid rows</h2>${list(r.invalid, r.invalidCount)}<h2>Duplicates (skipped)</h2>${list(r.duplicates, r.duplicateCount)}`;
    sendPage(res, adminPage('CSV import', body, { ...this.shell(req), refresh: imp.status === 'running' ? 1 : undefined }));
  }

  @Post('admin/import/:id/start')
  @ApiExcludeEndpoint()
  async startPage(@Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.imports.start(id);
    redirectTo(res, `/admin/import/${id}`);
  }

  @Post('api/admin/imports')
  @UseInterceptors(FileInterceptor('file', UPLOAD_LIMITS))
  @ApiOperation({ summary: 'Check a CSV (email, topics separated by ";", optional frequency): a dry run that stores only the report. Then start it.' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'mode'],
      properties: {
        file: { type: 'string', format: 'binary' },
        mode: { type: 'string', enum: ['confirmed', 'opt-in'], description: 'confirmed: you hold their consent (recorded); opt-in: each gets a confirmation email' },
        consent: { type: 'string', example: 'Signed up on paper at the NeurIPS 2026 booth', description: 'Required for confirmed' },
        frequency: { type: 'string', enum: ['instant', 'daily', 'weekly'], description: 'For rows without a frequency column' },
      },
    },
  })
  @ApiCreatedResponse({ schema: { example: REPORT_EXAMPLE } })
  async check(@Req() req: AdminRequest, @UploadedFile() file: UploadedText | undefined, @Body() body: Record<string, string>) {
    if (!file) throw new BadRequestException('file: attach the CSV as "file"');
    const id = await this.imports.check(req.admin.id, file.buffer.toString('utf8'), { mode: body?.mode, consentNote: body?.consent, frequency: body?.frequency });
    return this.imports.get(id);
  }

  @Get('api/admin/imports/:id')
  @ApiOperation({ summary: 'An import: its report and progress' })
  @ApiOkResponse({ schema: { example: { ...REPORT_EXAMPLE, status: 'running', processed: 1 } } })
  get(@Param('id') id: string) {
    return this.imports.get(id);
  }

  @Post('api/admin/imports/:id/start')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run a checked import (in the background; poll it for progress)' })
  @ApiAcceptedResponse({ schema: { example: { started: true } } })
  async start(@Param('id') id: string) {
    await this.imports.start(id);
    return { started: true };
  }

  private shell(req: AdminRequest, flash?: Shell['flash']): Shell {
    return { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/subscribers', flash };
  }

  private formHtml(req: AdminRequest, flash?: Shell['flash']): string {
    const body = `<p><a href="/admin/subscribers">← Subscribers</a></p><h1>Import subscribers from CSV</h1>
<div class="card"><p>The first line is a header with <code>email</code> and <code>topics</code> (alerts separated by <code>;</code>) and optionally <code>frequency</code>. First comes a check: a report of valid, invalid and duplicate rows by line number. Nothing is imported until you confirm.</p>
<form method="post" action="/admin/import?_csrf=${encodeURIComponent(req.admin.csrf ?? '')}" enctype="multipart/form-data">
<p><label for="file">CSV file</label><input id="file" name="file" type="file" accept=".csv,text/csv" required></p>
<fieldset><legend><b>How do these people join?</b> (required)</legend>
<p><label><input type="radio" name="mode" value="opt-in" required> Send each a confirmation email (double opt-in); they join only if they confirm</label></p>
<p><label><input type="radio" name="mode" value="confirmed"> They already agreed: add them as confirmed, recording where consent came from</label></p></fieldset>
<p><label for="consent">Where and when did they consent? (for confirmed; kept in each consent record)</label><input id="consent" name="consent" style="width:100%" placeholder="Signed up on paper at the NeurIPS 2026 booth"></p>
<p><label for="frequency">Frequency for rows without one</label><select id="frequency" name="frequency"><option>instant</option><option>daily</option><option>weekly</option></select></p>
<button>Check the file</button></form></div>`;
    return adminPage('CSV import', body, this.shell(req, flash));
  }
}
