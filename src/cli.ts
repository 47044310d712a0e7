import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BadRequestException, INestApplicationContext } from '@nestjs/common';
import { Command, CommanderError, Option } from 'commander';
import { createContext } from './bootstrap';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/config.schema';
import { DemoService, DemoSummary } from './demo/demo.service';
import { DigestFormatError, IngestResult } from './ingestion/digest.types';
import { IngestionService } from './ingestion/ingestion.service';
import { migrateDatabase } from './infra/prisma/migrate';
import { ComposerService } from './mailer/composer.service';
import { ReconcilerService } from './mailer/reconciler.service';
import { MailTransport } from './infra/mail/mail-transport.service';
import { CollectionStatsRepository } from './matching/collection-stats.repository';
import { QuerySyntaxError } from './matching/engine';
import { runMatchCommand } from './matching/match.command';
import { SubscribersService } from './subscribers/subscribers.service';
import { registerSourceCommands } from './ingestion/sources/sources.command';
import { registerAdminCommands } from './admin/admin.command';

/** Input problems exit with 2 and a one-line message; anything else is a failure (exit 1). */
class UsageError extends Error {}
const isInputError = (e: unknown) =>
  e instanceof UsageError || e instanceof DigestFormatError || e instanceof QuerySyntaxError || e instanceof BadRequestException || e instanceof ConfigError;

const out = (s: string) => process.stdout.write(s + '\n');

async function withContext<T>(opts: { workers: boolean; verbose?: boolean }, fn: (app: INestApplicationContext, config: AppConfig) => Promise<T>): Promise<T> {
  const config = AppConfig.fromProcessEnv();
  const app = await createContext(config, { workers: opts.workers, quiet: !opts.verbose });
  try {
    return await fn(app, config);
  } finally {
    await app.close();
  }
}

function describeIngest(file: string, r: IngestResult): string {
  return r.created
    ? `${file}: digest ${r.digestId} (${r.source}, ${r.date}) stored: ${r.papers} papers, ${r.newPapers} new`
    : `${file}: digest ${r.digestId} (${r.source}, ${r.date}) was already ingested; nothing stored`;
}

function printSummary(s: DemoSummary, outbox: string, usesSink: boolean): void {
  out('');
  out(`Paperboy demo: ${s.newDigests} new digest(s) ingested; ${s.digests} digests, ${s.papers} papers and ${s.subscribers} subscribers stored.`);
  out(`${s.matches} paper matches in total; ${s.emailsSent} email(s) sent in this run${s.emailsFailed ? `, ${s.emailsFailed} failed` : ''}.`);
  for (const r of s.recipients)
    out(`  ${r.email.padEnd(22)} ${String(r.emails).padStart(2)} email(s), ${String(r.papers).padStart(3)} papers   alerts: ${r.topics.join('; ')}`);
  if (s.emailsSent === 0 && s.newDigests === 0) out('Nothing new to send: every sample digest had been ingested and delivered before.');
  if (usesSink) {
    out('');
    out(`The emails are in ${outbox}/ as .eml files (open one in any mail client),`);
    out('or run `npm start` and browse http://localhost:3000/dev/outbox');
  }
}

export function buildProgram(): Command {
  const program = new Command('paperboy')
    .description('Paperboy: emails researchers the new papers that match their topics')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('migrate')
    .description('create the database if needed and apply all migrations')
    .action(async () => {
      const config = AppConfig.fromProcessEnv();
      const r = await migrateDatabase(config.env.DATABASE_URL);
      out(`${r.created ? 'created the database; ' : ''}migrations applied`);
    });

  program
    .command('ingest')
    .description('ingest digests: daily-papers pages (text) or JSON digests (.json)')
    .argument('<files...>')
    .option('--year <year>', 'year for dates written without one', (v) => {
      if (!/^\d{4}$/.test(v)) throw new UsageError(`--year: "${v}" is not a year`);
      return Number(v);
    })
    .option('--source <name>', 'source name for pages (default daily-papers)')
    .option('--wait', 'run the workers here until matching and sending are done')
    .option('--verbose', 'log what the service does')
    .action(async (files: string[], opts: { year?: number; source?: string; wait?: boolean; verbose?: boolean }) => {
      const inputs = files.map((file) => {
        try {
          return { file, text: readFileSync(file, 'utf8') };
        } catch (e) {
          throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      });
      await withContext({ workers: !!opts.wait, verbose: opts.verbose }, async (app) => {
        const ingestion = app.get(IngestionService);
        const ids: number[] = [];
        for (const { file, text } of inputs) {
          try {
            const isJson = file.endsWith('.json') || /^\s*[{[]/.test(text);
            let body: unknown;
            if (isJson) {
              try {
                body = JSON.parse(text);
              } catch (e) {
                throw new DigestFormatError(`not valid JSON (${(e as Error).message})`);
              }
            }
            const r = isJson ? await ingestion.importJson(body, { year: opts.year }) : await ingestion.importPage(text, { year: opts.year, source: opts.source });
            ids.push(r.digestId);
            out(describeIngest(file, r));
          } catch (e) {
            if (e instanceof DigestFormatError) throw new DigestFormatError(`${file}: ${e.message}`, e.line, e.field);
            throw e;
          }
        }
        if (opts.wait) {
          await app.get(DemoService).waitUntilSettled(ids, 10 * 60_000);
          out('matching and sending finished');
        }
      });
    });

  program
    .command('match')
    .description('score papers against topics with the matching engine and print the JSON result')
    .requiredOption('--papers <file>', 'JSON lines: {id, title, abstract, authors?}')
    .requiredOption('--topics <file>', 'JSON: {"<topic id>": {"query": "…"}}')
    .allowUnknownOption(false)
    .action(async (opts: { papers: string; topics: string }) => {
      try {
        await runMatchCommand(['--papers', opts.papers, '--topics', opts.topics], out);
      } catch (e) {
        throw e instanceof QuerySyntaxError ? e : new UsageError((e as Error).message);
      }
    });

  program
    .command('stats:rebuild')
    .description('count the collection statistics (document frequencies, lengths) again from the stored papers; the matching job does it by itself after an upgrade that changed the text analysis')
    .action(async () => {
      await withContext({ workers: false }, async (app) => {
        const r = (await app.get(CollectionStatsRepository).rebuild())!;
        out(`collection statistics counted again: ${r.papers} papers, ${r.terms} terms (ingestion held for ${r.writersHeldMs} ms)`);
      });
    });

  program
    .command('subscribers:add')
    .description('add (or update) an active subscriber, as an admin who has their consent')
    .argument('<email>')
    .requiredOption('--topic <query...>', 'one or more topic alerts')
    .addOption(new Option('--frequency <f>', 'when to email').choices(['instant', 'daily', 'weekly']).default('instant'))
    .action(async (email: string, opts: { topic: string[]; frequency: 'instant' | 'daily' | 'weekly' }) => {
      await withContext({ workers: false }, async (app) => {
        const r = await app.get(SubscribersService).addOrUpdate({ email, topics: opts.topic, frequency: opts.frequency, status: 'active', consentSource: 'cli-admin' });
        out(`${r.created ? 'added' : 'updated'} subscriber ${r.id}`);
      });
    });

  program
    .command('send')
    .description("send now, whatever the subscribers' cadence: everyone's undelivered matches, or one subscriber's, or one digest's")
    .option('--subscriber <email>', 'only this subscriber')
    .option('--digest <id>', 'only the matches of this digest', (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--digest: "${v}" is not a digest id`);
      return Number(v);
    })
    .option('--due', 'only daily/weekly subscribers whose send hour has come (what the scheduler does every minute)')
    .option('--wait', 'run the workers here until every email is sent')
    .action(async (opts: { subscriber?: string; digest?: number; due?: boolean; wait?: boolean }) => {
      await withContext({ workers: !!opts.wait }, async (app) => {
        const composer = app.get(ComposerService);
        let subscriberId: string | undefined;
        if (opts.subscriber) {
          subscriberId = await app.get(SubscribersService).idByEmail(opts.subscriber);
          if (!subscriberId) throw new UsageError(`--subscriber: no subscriber ${opts.subscriber}`);
        }
        const n = opts.due ? await composer.composeDue() : await composer.sendNow({ subscriberId, digestId: opts.digest });
        out(`${n} email(s) queued`);
        if (opts.wait) {
          await app.get(DemoService).waitUntilSettled([], 10 * 60_000);
          out('sending finished');
        }
      });
    });

  program
    .command('deliveries:retry')
    .description('send again deliveries that failed, or whose outcome is unknown (a worker stopped mid-send)')
    .addOption(new Option('--status <status>', 'which deliveries').choices(['failed', 'unknown']).makeOptionMandatory())
    .option('--id <ids...>', 'only these delivery ids')
    .action(async (opts: { status: 'failed' | 'unknown'; id?: string[] }) => {
      const ids = opts.id?.map((v) => {
        if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--id: "${v}" is not a delivery id`);
        return Number(v);
      });
      await withContext({ workers: false }, async (app) => {
        out(`${await app.get(ReconcilerService).reopen(opts.status, ids)} delivery(ies) queued again`);
      });
    });

  program
    .command('demo')
    .description('migrate, seed demo subscribers, ingest the sample pages, match and deliver to the mail sink')
    .option('--json', 'print one JSON object as the last line')
    .option('--verbose', 'log what the service does')
    .action(async (opts: { json?: boolean; verbose?: boolean }) => {
      const started = new Date();
      const config = AppConfig.fromProcessEnv();
      if (!opts.json) out(`Migrating ${new URL(config.env.DATABASE_URL).pathname.slice(1)} …`);
      await migrateDatabase(config.env.DATABASE_URL);
      await withContext({ workers: true, verbose: opts.verbose }, async (app) => {
        const demo = app.get(DemoService);
        await demo.seedSubscribers();
        const results = await demo.ingestSamples();
        if (!opts.json) for (const r of results) out(describeIngest(`sample page ${results.indexOf(r) + 1}`, r));
        await demo.waitUntilSettled(
          results.map((r) => r.digestId),
          5 * 60_000,
        );
        const summary = await demo.summary(started, results.filter((r) => r.created).length);
        const transport = app.get(MailTransport);
        const outbox = relative(process.cwd(), transport.outboxDir) || '.';
        if (opts.json) {
          const { digests, papers, subscribers, matches, emailsSent } = summary;
          out(JSON.stringify({ digests, papers, subscribers, matches, emailsSent, outbox }));
        } else printSummary(summary, outbox, transport.usesEmbeddedSink);
        if (summary.emailsFailed) throw new Error(`${summary.emailsFailed} email(s) failed; see the delivery table`);
      });
    });

  registerSourceCommands(program, { withContext, out, usageError: (m) => new UsageError(m) });
  registerAdminCommands(program, { withContext, out, usageError: (m) => new UsageError(m) });

  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return isInputError(e) ? 2 : 1;
  }
}

/**
 * Exits once stdout and stderr have taken everything written: a pipe is written asynchronously, and
 * process.exit() right after the writes drops what the pipe had not taken yet (a `match` result
 * piped to another program stopped at 64 KiB).
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(exitWhenFlushed);
}

