import { AppConfig } from '../../config/app-config';
import { parseEnv } from '../../config/config.schema';
import { IngestionService } from '../ingestion.service';
import { ArxivRssSource } from './arxiv-rss.source';
import { HfDailySource } from './hf-daily.source';
import { SourcePullRepository } from './source-pull.repository';
import { SourcesService } from './sources.service';

const service = (env: Record<string, string>) => new SourcesService(new AppConfig(parseEnv(env)), {} as IngestionService, {} as SourcePullRepository);

describe('SourcesService (no I/O)', () => {
  it('never spaces requests to arXiv itself by less than 3 s; local mirrors may go faster', () => {
    expect(service({ ARXIV_REQUEST_INTERVAL_MS: '0' }).arxivIntervalMs).toBe(3000);
    expect(service({ ARXIV_REQUEST_INTERVAL_MS: '5000' }).arxivIntervalMs).toBe(5000);
    expect(service({ ARXIV_REQUEST_INTERVAL_MS: '10', ARXIV_API_URL: 'http://127.0.0.1:9', ARXIV_RSS_URL: 'http://127.0.0.1:9' }).arxivIntervalMs).toBe(10);
  });

  it('builds adapters by name, keeping the configured category spelling', () => {
    const s = service({ SOURCES: 'hf-daily,arxiv-rss:cs.LG' });
    expect(s.source('hf-daily')).toBeInstanceOf(HfDailySource);
    expect(s.source('arxiv-rss:cs.lg')).toBeInstanceOf(ArxivRssSource);
    expect((s.source('arxiv-rss:cs.lg') as unknown as { category: string }).category).toBe('cs.LG');
    expect(s.enabled().map((e) => [e.spec.name, e.pattern])).toEqual([
      ['hf-daily', '30 23 * * *'],
      ['arxiv-rss:cs.lg', '0 6 * * 1-5'],
    ]);
    expect(() => s.source('nope')).toThrow(/"nope" is not a source/);
  });

  it('scheduled ranges: Hugging Face yesterday and today, the arXiv API the last three days', () => {
    const now = new Date('2026-11-23T23:30:00Z');
    const iso = (r: { from: Date; to: Date }) => [r.from, r.to].map((d) => d.toISOString().slice(0, 10));
    const s = service({});
    expect(iso(s.source('hf-daily').scheduledRange(now))).toEqual(['2026-11-22', '2026-11-23']);
    expect(iso(s.source('arxiv-api:cs.LG').scheduledRange(now))).toEqual(['2026-11-21', '2026-11-23']);
  });
});
