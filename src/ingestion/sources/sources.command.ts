import { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { ProgressBar } from '../../common/progress-bar';
import { AppConfig } from '../../config/app-config';
import { DemoService } from '../../demo/demo.service';
import { formatIsoDate } from '../parsers/digest-date';
import { PullRecord } from './source-pull.repository';
import { SourcesService } from './sources.service';

export interface CliKit {
  withContext<T>(opts: { workers: boolean; verbose?: boolean }, fn: (app: INestApplicationContext, config: AppConfig) => Promise<T>): Promise<T>;
  out(s: string): void;
  usageError(message: string): Error;
}

function isoDay(kit: CliKit, flag: string) {
  return (v: string): Date => {
    const d = new Date(`${v}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(d.getTime()) || formatIsoDate(d) !== v) throw kit.usageError(`${flag}: "${v}" is not a date (YYYY-MM-DD)`);
    return d;
  };
}

const when = (d: Date | null | undefined) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '-');

function pullLine(p: PullRecord): string {
  const range = p.rangeFrom ? ` ${formatIsoDate(p.rangeFrom)}..${formatIsoDate(p.rangeTo ?? p.rangeFrom)}` : '';
  const counts = `${p.digests} digest(s), ${p.newPapers} new, ${p.updatedPapers} updated, ${p.skippedPapers} skipped`;
  return `#${p.id} ${when(p.startedAt)} ${p.source} ${p.trigger}${p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}${range}: ${p.status}, ${counts}${p.error ? ` — ${p.error}` : ''}`;
}

/** `backfill` and `sources:status`: thin adapters over SourcesService. */
export function registerSourceCommands(program: Command, kit: CliKit): void {
  program
    .command('backfill')
    .description('pull past days from a source (hf-daily, arxiv-api:CATEGORY) into the pipeline')
    .argument('<source>', 'e.g. hf-daily or arxiv-api:cs.LG')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD (UTC)', isoDay(kit, '--from'))
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD (UTC)', isoDay(kit, '--to'))
    .option('--wait', 'run the workers here until matching and sending are done')
    .option('--verbose', 'log what the service does')
    .action(async (source: string, opts: { from: Date; to: Date; wait?: boolean; verbose?: boolean }) => {
      await kit.withContext({ workers: !!opts.wait, verbose: opts.verbose }, async (app) => {
        const bar = new ProgressBar(process.stderr, source);
        const summary = await app
          .get(SourcesService)
          .pull(source, {
            trigger: 'backfill',
            range: { from: opts.from, to: opts.to },
            onProgress: (p, c) => bar.update(p.done, p.total, `${c.newPapers} new, ${c.updatedPapers} updated`),
          })
          .finally(() => bar.stop());
        kit.out(
          `${summary.source}: pull ${summary.pullId}: ${summary.digests} new digest(s), ${summary.newPapers} new, ` +
            `${summary.updatedPapers} updated, ${summary.skippedPapers} skipped paper(s)`,
        );
        for (const p of summary.problems.slice(0, 10)) kit.out(`  skipped: ${p}`);
        if (opts.wait) {
          await app.get(DemoService).waitUntilSettled(summary.digestIds, 10 * 60_000);
          kit.out('matching and sending finished');
        }
      });
    });

  program
    .command('sources:status')
    .description('the enabled sources, their schedules and the latest pulls')
    .option('--limit <n>', 'how many recent pulls to list', (v) => {
      if (!/^\d{1,4}$/.test(v) || Number(v) < 1) throw kit.usageError(`--limit: "${v}" is not a positive number`);
      return Number(v);
    })
    .option('--json', 'print one JSON object')
    .action(async (opts: { limit?: number; json?: boolean }) => {
      await kit.withContext({ workers: false }, async (app) => {
        const status = await app.get(SourcesService).status(opts.limit ?? 20);
        if (opts.json) return kit.out(JSON.stringify(status));
        if (!status.sources.length) kit.out('No source is enabled (set SOURCES, e.g. SOURCES=hf-daily,arxiv-rss:cs.LG) and none has been pulled.');
        for (const s of status.sources) {
          const last = s.lastPull ? `last pull ${when(s.lastPull.startedAt)} ${s.lastPull.status}${s.lastPull.error ? ` (${s.lastPull.error})` : ''}` : 'never pulled';
          kit.out(`${s.name.padEnd(22)} ${s.enabled ? `schedule "${s.schedule}" UTC` : 'not enabled'}; ${last}`);
        }
        if (status.sources.some((s) => s.name.startsWith('arxiv'))) kit.out(`arXiv requests are spaced ${status.arxivIntervalMs} ms apart, one at a time.`);
        if (status.pulls.length) {
          kit.out('');
          kit.out('Recent pulls:');
          for (const p of status.pulls) kit.out('  ' + pullLine(p));
        }
      });
    });
}
