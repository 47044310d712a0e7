import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { CollectionStatsRepository } from './collection-stats.repository';
import { compileTopics, EnginePaper, InMemoryStats, matchPapers, TopicMatch } from './engine';
import { FeedbackIndex } from './engine/feedback';
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
    { id: 3, query: 'tertiary structure' },
  ];

  /** What the job stores; `batches` splits the topics as activeTopics would with a smaller MATCH_TOPIC_BATCH. */
  async function stored(feedback: string | undefined, batches = 1): Promise<Map<string, TopicMatch[]>> {
    const saved = new Map<string, TopicMatch[]>();
    const repo = {
      digestPapers: async () => papers,
      async *activeTopics() {
        const size = Math.ceil(topics.length / batches);
        for (let i = 0; i < topics.length; i += size) yield topics.slice(i, i + size);
      },
      saveTopicMatches: async (_digest: number, matches: Map<string, TopicMatch[]>) => {
        for (const [k, v] of matches) saved.set(k, v);
        return [...matches.values()].reduce((n, l) => n + l.length, 0);
      },
      fanOut: async () => 0,
      markMatched: async (id: number) => ({ id, version: 1 }),
    } as unknown as MatchingRepository;
    const stats = { ensureCurrent: async () => false, load: async () => InMemoryStats.fromPapers(papers) } as unknown as CollectionStatsRepository;
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

  it('builds the papers\' feedback vectors once per digest, not once per batch of topics', async () => {
    // addField runs once per field of a paper whose vector is built (title and abstract).
    const built = jest.spyOn(FeedbackIndex.prototype as unknown as { addField: () => void }, 'addField');
    try {
      const inTwo = await stored('true', 2);
      expect(built).toHaveBeenCalledTimes(2 * papers.length);
      expect(inTwo).toEqual(engine(true));
    } finally {
      built.mockRestore();
    }
  });
});
