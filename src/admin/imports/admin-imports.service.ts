import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Frequency } from '../../generated/prisma/client';
import { JobProducer } from '../../infra/queue/job-producer.service';
import { isValidEmail, normalizeEmail } from '../../subscribers/subscribers.service';
import { TokensService } from '../../subscribers/tokens.service';
import { parseCsv } from '../csv';
import { FREQUENCIES, parseTopics } from '../subscribers/admin-subscribers.service';
import { AdminImportsRepository, ImportMode, ImportReport, ImportRow } from './admin-imports.repository';

const MAX_ROWS = 200_000;
const CHUNK = 250;
/** The report lists at most this many bad lines of each kind (the counts are always complete). */
const REPORT_LINES = 1000;

/**
 * CSV import, in two steps: check (a dry run storing nothing but the import itself: a report of
 * valid, invalid and duplicate rows by line), then run (chunks, with progress). How imported
 * addresses join is the admin's explicit choice: confirmed (consent the admin vouches for, recorded)
 * or opt-in (each gets the double opt-in email, exactly as from the form).
 */
@Injectable()
export class AdminImportsService {
  private readonly logger = new Logger(AdminImportsService.name);

  constructor(
    private readonly repo: AdminImportsRepository,
    private readonly tokens: TokensService,
    private readonly jobs: JobProducer,
  ) {}

  async check(adminId: number, text: string, opts: { mode?: unknown; consentNote?: unknown; frequency?: unknown }): Promise<string> {
    const mode = opts.mode;
    if (mode !== 'confirmed' && mode !== 'opt-in') throw new BadRequestException('mode: choose "confirmed" (you hold their consent) or "opt-in" (send each a confirmation email)');
    const note = typeof opts.consentNote === 'string' ? opts.consentNote.replace(/[\u0000-\u001f]/g, ' ').trim() : '';
    if (mode === 'confirmed' && note.length < 5) throw new BadRequestException('consent: say where and when these people agreed (kept in each consent record)');
    const defaultFrequency = (opts.frequency || 'instant') as Frequency;
    if (!FREQUENCIES.includes(defaultFrequency)) throw new BadRequestException(`frequency: one of ${FREQUENCIES.join(', ')}`);

    const records = parseCsv(text);
    if (records.length === 0) throw new BadRequestException('file: empty');
    const header = records[0].cells.map((c) => c.trim().toLowerCase());
    const col = { email: header.indexOf('email'), topics: header.indexOf('topics'), frequency: header.indexOf('frequency') };
    if (col.email < 0 || col.topics < 0) throw new BadRequestException('file: the first line must be a header with "email" and "topics" columns (and optionally "frequency")');
    if (records.length - 1 > MAX_ROWS) throw new BadRequestException(`file: at most ${MAX_ROWS} rows per import`);

    const report: ImportReport = { records: records.length - 1, valid: 0, invalid: [], duplicates: [] };
    const invalid = (line: number, reason: string) => report.invalid.push({ line, reason });
    const seen = new Map<string, number>();
    const candidates: ImportRow[] = [];
    for (const r of records.slice(1)) {
      const email = normalizeEmail(r.cells[col.email] ?? '');
      if (!isValidEmail(email)) {
        invalid(r.line, email ? `"${email.slice(0, 80)}" is not a valid address` : 'no email address');
        continue;
      }
      let topics;
      try {
        topics = parseTopics((r.cells[col.topics] ?? '').split(/[;\n|]/));
      } catch (e) {
        invalid(r.line, (e as Error).message);
        continue;
      }
      const freq = (col.frequency >= 0 && r.cells[col.frequency]?.trim()) || defaultFrequency;
      if (!FREQUENCIES.includes(freq as Frequency)) {
        invalid(r.line, `frequency "${freq.slice(0, 20)}": one of ${FREQUENCIES.join(', ')}`);
        continue;
      }
      const first = seen.get(email);
      if (first !== undefined) {
        report.duplicates.push({ line: r.line, reason: `${email} is also on line ${first}` });
        continue;
      }
      seen.set(email, r.line);
      candidates.push({ line: r.line, email, topics, frequency: freq as Frequency });
    }
    const rows: ImportRow[] = [];
    for (let i = 0; i < candidates.length; i += 1000) {
      const batch = candidates.slice(i, i + 1000);
      const existing = await this.repo.existingEmails(batch.map((r) => r.email));
      const suppressed = await this.repo.suppressedHashes(batch.map((r) => this.tokens.addressHash(r.email)));
      for (const r of batch) {
        if (suppressed.has(this.tokens.addressHash(r.email))) invalid(r.line, `${r.email} was erased at its owner's request; only they can subscribe again`);
        else if (existing.has(r.email)) report.duplicates.push({ line: r.line, reason: `${r.email} is already a subscriber (left unchanged)` });
        else rows.push(r);
      }
    }
    report.valid = rows.length;
    report.invalid.sort((a, b) => a.line - b.line);
    report.duplicates.sort((a, b) => a.line - b.line);
    const counts = { invalidCount: report.invalid.length, duplicateCount: report.duplicates.length };
    const stored = { ...report, ...counts, invalid: report.invalid.slice(0, REPORT_LINES), duplicates: report.duplicates.slice(0, REPORT_LINES) };
    return this.repo.create(adminId, mode, mode === 'confirmed' ? note : null, rows, stored);
  }

  async get(id: string) {
    const r = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.get(id) : null;
    if (!r) throw new NotFoundException('no such import');
    const { rows: _rows, ...rest } = r;
    return { ...rest, report: r.report as unknown as ImportReport & { invalidCount: number; duplicateCount: number } };
  }

  /** Starts a checked import; it runs in the background in chunks (the page shows the progress). */
  async start(id: string): Promise<void> {
    await this.get(id);
    if (!(await this.repo.claim(id))) throw new BadRequestException('this import has already been started');
    void this.run(id).catch((err) => this.logger.error(`import ${id} stopped: ${(err as Error).message}`));
  }

  /** Runs an import to the end (exposed so a test or the CLI can await it). */
  async run(id: string): Promise<void> {
    const imp = await this.repo.get(id);
    if (!imp) return;
    const rows = imp.rows as unknown as ImportRow[];
    let processed = imp.processed;
    let imported = imp.imported;
    while (processed < rows.length) {
      const chunk = rows.slice(processed, processed + CHUNK);
      if (imp.mode === 'confirmed') imported += await this.repo.importConfirmed(chunk, imp.consentNote ?? '');
      else {
        const ids = await this.repo.createRequests(chunk);
        for (const requestId of ids) await this.jobs.subscriptionRequest(requestId);
        imported += ids.length;
      }
      processed += chunk.length;
      await this.repo.progress(id, processed, imported);
    }
    await this.repo.finish(id);
    this.logger.log(`import ${id}: ${imported} of ${rows.length} rows imported (${imp.mode})`);
  }
}
