import { Injectable } from '@nestjs/common';
import { seqWriterLock } from '../infra/prisma/match-ranges';
import { PrismaService } from '../infra/prisma/prisma.service';
import type { RowRef } from '../infra/queue/queues';
import { EnginePaper, TopicMatch } from './engine';

export interface TopicRow {
  id: number;
  query: string;
}

@Injectable()
export class MatchingRepository {
  constructor(private readonly prisma: PrismaService) {}

  async digestPapers(digestId: number): Promise<EnginePaper[] | undefined> {
    const digest = await this.prisma.digest.findUnique({
      where: { id: digestId },
      select: { papers: { orderBy: { position: 'asc' }, select: { paper: { select: { id: true, title: true, abstract: true, authors: true } } } } },
    });
    return digest?.papers.map(({ paper }) => ({ id: String(paper.id), title: paper.title, abstract: paper.abstract, authors: paper.authors }));
  }

  /** Distinct topics that at least one active subscriber holds, streamed in id order (keyset pages). */
  async *activeTopics(batchSize: number): AsyncGenerator<TopicRow[]> {
    let after = 0;
    for (;;) {
      const rows = await this.prisma.$queryRaw<TopicRow[]>`
        SELECT t.id, t.query FROM topic t
        WHERE t.id > ${after}
          AND EXISTS (SELECT 1 FROM subscriber_topic st JOIN subscriber s ON s.id = st.subscriber_id
                      WHERE st.topic_id = t.id AND s.status = 'active')
        ORDER BY t.id LIMIT ${batchSize}`;
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1].id;
    }
  }

  async saveTopicMatches(digestId: number, results: Map<string, TopicMatch[]>): Promise<number> {
    const topicIds: number[] = [];
    const paperIds: number[] = [];
    const scores: number[] = [];
    const whys: string[] = [];
    for (const [topicId, matches] of results) {
      for (const m of matches) {
        topicIds.push(Number(topicId));
        paperIds.push(Number(m.paperId));
        scores.push(m.score);
        whys.push(m.why);
      }
    }
    if (topicIds.length === 0) return 0;
    return this.prisma.$executeRaw`
      INSERT INTO topic_match (digest_id, topic_id, paper_id, score, why)
      SELECT ${digestId}, * FROM unnest(${topicIds}::int[], ${paperIds}::int[], ${scores}::float8[], ${whys}::text[])
      ON CONFLICT DO NOTHING`;
  }

  /**
   * Fans a digest's topic matches out to active subscribers in one set-based statement: cost grows
   * with matches, never with subscribers × papers. The (subscriber, paper) primary key means a
   * paper a subscriber already had (from any digest) is never matched again.
   */
  async fanOut(digestId: number): Promise<number> {
    // New matches get seqs: under the compose lock, shared (see match-ranges.ts).
    const [, inserted] = await this.prisma.$transaction([
      this.prisma.$queryRaw(seqWriterLock),
      this.prisma.$executeRaw`
        INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, topics)
        SELECT st.subscriber_id, tm.paper_id, ${digestId},
               max(tm.score),
               (array_agg(tm.why ORDER BY tm.score DESC, st.label))[1],
               array_agg(st.label ORDER BY tm.score DESC, st.label)
        FROM topic_match tm
        JOIN subscriber_topic st ON st.topic_id = tm.topic_id
        JOIN subscriber s ON s.id = st.subscriber_id AND s.status = 'active'
        WHERE tm.digest_id = ${digestId}
        GROUP BY st.subscriber_id, tm.paper_id
        ON CONFLICT (subscriber_id, paper_id) DO NOTHING`,
    ]);
    return inserted;
  }

  /** Marks the digest matched; returns its id and creation time (the follow-up job's key). */
  async markMatched(digestId: number): Promise<RowRef> {
    await this.prisma.digest.updateMany({ where: { id: digestId, status: 'ingested' }, data: { status: 'matched', matchedAt: new Date() } });
    return this.prisma.digest.findUniqueOrThrow({ where: { id: digestId }, select: { id: true, createdAt: true } });
  }
}
