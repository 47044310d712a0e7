import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { CollectionStatsRepository } from './collection-stats.repository';
import { compileTopics, EnginePaper, InMemoryStats, matchPapers, TopicMatch } from './engine';
import { FEEDBACK_PAPERS } from './engine/spec-fixtures';
import type { MatchingRepository, TopicRow } from './matching.repository';
import { MatchingService } from './matching.service';

/**
 * The matching job with its database parts replaced by the same data in memory: it must store what
 * the engine (and so the CLI's `match`) gives for the same input, with MATCH_FEEDBACK on and off.
 */
describe('MatchingService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  const papers: EnginePaper[] = [...FEEDBACK_PAPERS, { id: 'G1', title: 'Graph learning', abstract: 'Message passing on graphs.' }];
  const topics: TopicRow[] = [
    { id: 1, query: 'protein folding' },
    { id: 2, query: 'graphs' },
  ];

  async function stored(feedback: string | undefined): Promise<Map<string, TopicMatch[]>> {
    let saved = new Map<string, TopicMatch[]>();
    const repo = {
      digestPapers: async () => papers,
      async *activeTopics() {
        yield topics;
      },
      saveTopicMatches: async (_digest: number, matches: Map<string, TopicMatch[]>) => {
        saved = matches;
        return [...matches.values()].reduce((n, l) => n + l.length, 0);
      },
      fanOut: async () => 0,
      markMatched: async (id: number) => ({ id, version: 1 }),
    } as unknown as MatchingRepository;
    const stats = { load: async () => InMemoryStats.fromPapers(papers) } as unknown as CollectionStatsRepository;
    const config = AppConfig.fromProcessEnv({ MATCH_FEEDBACK: feedback });
    await new MatchingService(repo, stats, config).matchDigest(7);
    return saved;
  }

  const engine = (feedback: boolean) =>
    matchPapers(
      compileTopics(topics.map((t) => ({ id: String(t.id), query: t.query }))),
      papers,
      InMemoryStats.fromPapers(papers),
      { feedback },
    );

  it('stores what the engine gives, ranked with feedback only when MATCH_FEEDBACK is on', async () => {
    const off = await stored(undefined);
    const on = await stored('true');
    expect(off).toEqual(engine(false));
    expect(on).toEqual(engine(true));
    expect(on.get('1')).not.toEqual(off.get('1'));
  });
});
