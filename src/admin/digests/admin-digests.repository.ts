import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../infra/prisma/prisma.service';

export interface DigestRow {
  id: number;
  source: string;
  digestDate: Date;
  status: string;
  paperCount: number;
  createdAt: Date;
  matchedAt: Date | null;
  matches: number;
  subscribers: number;
}

@Injectable()
export class AdminDigestsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Newest first, keyset on id; match counts per digest use match_digest_id_idx. */
  list(limit: number, beforeId?: number): Promise<DigestRow[]> {
    return this.prisma.$queryRaw<DigestRow[]>`
      SELECT d.id, d.source, d.digest_date AS "digestDate", d.status::text AS status, d.paper_count AS "paperCount",
             d.created_at AS "createdAt", d.matched_at AS "matchedAt",
             (SELECT count(*)::int FROM match m WHERE m.digest_id = d.id) AS matches,
             (SELECT count(DISTINCT m.subscriber_id)::int FROM match m WHERE m.digest_id = d.id) AS subscribers
      FROM digest d WHERE (${beforeId ?? null}::int IS NULL OR d.id < ${beforeId ?? null}::int)
      ORDER BY d.id DESC LIMIT ${limit}`;
  }

  digest(id: number) {
    return this.prisma.digest.findUnique({ where: { id }, select: { id: true, source: true, digestDate: true, status: true, paperCount: true, createdAt: true, matchedAt: true } });
  }

  /** The digest's papers in page order, with how many subscribers each matched. */
  papers(id: number) {
    return this.prisma.$queryRaw<{ id: number; title: string; url: string | null; arxivId: string | null; authors: string[]; position: number; subscribers: number; topics: number }[]>`
      SELECT p.id, p.title, p.url, p.arxiv_id AS "arxivId", p.authors, dp.position,
             (SELECT count(*)::int FROM match m WHERE m.digest_id = dp.digest_id AND m.paper_id = p.id) AS subscribers,
             (SELECT count(*)::int FROM topic_match tm WHERE tm.digest_id = dp.digest_id AND tm.paper_id = p.id) AS topics
      FROM digest_paper dp JOIN paper p ON p.id = dp.paper_id
      WHERE dp.digest_id = ${id} ORDER BY dp.position`;
  }

  /** Per distinct topic: papers it matched in the digest and how many subscribers hold it. */
  topicCounts(id: number, limit = 100) {
    return this.prisma.$queryRaw<{ query: string; papers: number; subscribers: number }[]>`
      SELECT t.query, count(*)::int AS papers,
             (SELECT count(*)::int FROM subscriber_topic st WHERE st.topic_id = t.id) AS subscribers
      FROM topic_match tm JOIN topic t ON t.id = tm.topic_id
      WHERE tm.digest_id = ${id}
      GROUP BY t.id, t.query ORDER BY papers DESC, subscribers DESC, t.query LIMIT ${limit}`;
  }
}
