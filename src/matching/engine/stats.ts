import { abstractContent, collectFieldTerms } from './analyze';
import type { EnginePaper } from './types';

/** Collection statistics the scorer needs: document frequencies of stems, bigrams and trigrams, and field lengths. */
export interface CollectionStats {
  docCount: number;
  avgTitleLength: number;
  avgAbstractLength: number;
  df(term: string): number;
}

/**
 * Version of the text analysis behind paperCounts (tokenisation and stemming).
 * Statistics kept outside the process (the database's term_stat, keyed by stems) were counted with
 * the analysis of their time and must be counted again when this changes.
 * 1: Porter2 stems. 2: Porter2 with derivations kept apart (keepDerivation in tokenize.ts).
 * 3: and -ification nouns with their -ify verbs ("classification" = "classify"), irregular plurals
 * with their singulars ("analyses" = "analysis", "minima" = "minimum"), -anced / -enced / -iced forms
 * with their base ("imbalanced" = "imbalance"). 4: and trigrams of adjacent stems ("stem1 stem2 stem3").
 * 5: abstracts without their sentences on code availability and links (abstractContent in analyze.ts).
 * 6: comparative and superlative adjectives with their base ("smaller" = "small", adjectiveBase).
 * 7: -ller agent nouns apart from their verb ("controller" from "control", keepDerivation).
 * 8: -alize words apart from their base ("initialization" from "initial", keepDerivation).
 */
export const ANALYZER_VERSION = 8;

/**
 * The distinct statistic keys of one paper (title and abstract): stems, adjacent-stem bigrams
 * written "stem1 stem2" and trigrams written "stem1 stem2 stem3". Persist one df row per key and increment each when a paper is stored.
 */
export function documentTerms(paper: EnginePaper): string[] {
  return paperCounts(paper).terms;
}

/**
 * What one paper adds to the collection statistics, from one pass of the text analysis: its
 * documentTerms, and the content-token lengths of its title and abstract (the totals behind the
 * average lengths).
 */
export function paperCounts(paper: Pick<EnginePaper, 'title' | 'abstract'>): { terms: string[]; title: number; abstract: number } {
  const set = new Set<string>();
  const title = collectFieldTerms(paper.title, set);
  const abstract = collectFieldTerms(abstractContent(paper.abstract), set);
  return { terms: [...set].sort(), title, abstract };
}

export class InMemoryStats implements CollectionStats {
  docCount = 0;
  private totalTitle = 0;
  private totalAbstract = 0;
  private readonly dfs = new Map<string, number>();

  static fromPapers(papers: EnginePaper[]): InMemoryStats {
    const stats = new InMemoryStats();
    for (const p of papers) stats.add(p);
    return stats;
  }

  /** Rebuild from persisted rows (what the database keeps). */
  static fromCounts(docCount: number, totalTitleLength: number, totalAbstractLength: number, df: Iterable<[string, number]>): InMemoryStats {
    const stats = new InMemoryStats();
    stats.docCount = docCount;
    stats.totalTitle = totalTitleLength;
    stats.totalAbstract = totalAbstractLength;
    for (const [term, n] of df) stats.dfs.set(term, n);
    return stats;
  }

  add(paper: EnginePaper): void {
    this.docCount++;
    const counts = paperCounts(paper);
    this.totalTitle += counts.title;
    this.totalAbstract += counts.abstract;
    for (const t of counts.terms) this.dfs.set(t, (this.dfs.get(t) ?? 0) + 1);
  }

  get avgTitleLength(): number {
    return this.docCount ? this.totalTitle / this.docCount : 0;
  }

  get avgAbstractLength(): number {
    return this.docCount ? this.totalAbstract / this.docCount : 0;
  }

  get totalTitleLength(): number {
    return this.totalTitle;
  }

  get totalAbstractLength(): number {
    return this.totalAbstract;
  }

  df(term: string): number {
    return this.dfs.get(term) ?? 0;
  }
}
