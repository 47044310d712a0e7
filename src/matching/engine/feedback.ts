import type { AnalyzedPaper, FieldIndex } from './analyze';
import { bigramKey } from './analyze';
import type { CollectionStats } from './stats';

/**
 * Pseudo-relevance feedback (Rocchio) within the batch being matched. See docs/matching.md.
 *
 * A paper's term vector: tf-idf over its stems and adjacent-stem bigrams (the keys of
 * `documentTerms`, so the collection statistics know their document frequencies), unit length.
 * For a topic, the papers that passed the strict rule (the best FEEDBACK_DOCS of them) are the
 * feedback set. The centroid is made of the terms that at least MIN_SUPPORT feedback papers have
 * among their own DOC_TOP_TERMS most distinctive ones, leaving out the query's own words (the
 * strict rule has weighed those already): it says what the confident matches talk about besides
 * the query. Each feedback paper's similarity is taken against the centroid of the others (leave
 * one out), so it is comparable with the similarity of a paper outside the set; their median is
 * the feedback set's own level, the unit in which other papers' similarities are read.
 *
 * A FeedbackIndex lives for one matching run (one batch, one statistics object); vectors are built
 * on first use, for the papers feedback touches only, so the cost follows the matches.
 */

/** At most this many confident matches (the best) form the feedback set. */
export const FEEDBACK_DOCS = 10;
/** Fewer confident matches than this: no feedback (one paper alone is no consensus). */
export const MIN_FEEDBACK_DOCS = 2;
/** A paper's most distinctive terms: the ones it can contribute to a centroid. */
export const DOC_TOP_TERMS = 40;
/** Terms kept of a paper's vector (the heaviest; the rest are common words of little weight). */
export const DOC_TERMS = 100;
/** Terms kept in a topic's centroid. */
export const CENTROID_TERMS = 30;
/** A centroid term must be among the top terms of at least this many feedback papers. */
export const MIN_SUPPORT = 2;
/** Title occurrences count this many times (as in scoring). */
const TITLE_TF = 3;

interface DocVector {
  /** Term ids (of this run) and weights (of the unit-length vector over all terms), heaviest DOC_TERMS. */
  ids: Int32Array;
  w: Float64Array;
  /** 1 where the term is among the DOC_TOP_TERMS heaviest. */
  top: Uint8Array;
}

export interface Centroid {
  /** Term ids of this run, heaviest first, and their weights. */
  ids: Int32Array;
  weights: Float64Array;
  norm: number;
  /** Median leave-one-out similarity of the feedback papers: the feedback set's own level. */
  level: number;
  /** Batch index → similarity of a feedback paper with the centroid of the others. */
  leaveOneOut: Map<number, number>;
  /** The heaviest terms, for explanations. */
  terms: string[];
}

/** A stem or bigram that contains a stem of the query. */
function mentionsQuery(term: string, queryStems: ReadonlySet<string>): boolean {
  const space = term.indexOf(' ');
  if (space < 0) return queryStems.has(term);
  return queryStems.has(term.slice(0, space)) || queryStems.has(term.slice(space + 1));
}

function isNumber(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function addFieldTerms(field: FieldIndex, weight: number, tf: Map<string, number>): void {
  const byStart: string[][] = [];
  for (const [stem, occ] of field.occ) {
    if (!isNumber(stem)) tf.set(stem, (tf.get(stem) ?? 0) + weight * (occ.length >> 1));
    for (let i = 0; i < occ.length; i += 2) (byStart[occ[i]] ??= []).push(stem);
  }
  for (const [stem, occ] of field.occ) {
    if (isNumber(stem)) continue;
    for (let i = 0; i < occ.length; i += 2) {
      const next = byStart[occ[i + 1] + 1];
      if (!next) continue;
      for (const n of next) {
        if (isNumber(n) || n === stem) continue;
        const key = bigramKey(stem, n);
        tf.set(key, (tf.get(key) ?? 0) + weight);
      }
    }
  }
}

/** Term vectors of one batch under one statistics object (one matching run). */
export class FeedbackIndex {
  private readonly vectors: (DocVector | undefined)[];
  private readonly n: number;
  /** Term → id for this run, and back; with each id's df (-1 until asked). */
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private dfOf = new Float64Array(1024);
  /** Dense scratch indexed by term id: sums and supports while building a centroid, then its weights. */
  private sum = new Float64Array(1024);
  private support = new Int32Array(1024);
  private cw = new Float64Array(1024);
  private postings: { docs: number[]; w: number[] }[] | undefined;

  constructor(
    private readonly docs: AnalyzedPaper[],
    private readonly stats: CollectionStats,
  ) {
    this.vectors = new Array(docs.length);
    this.n = Math.max(1, stats.docCount);
  }

  private termId(t: string): number {
    let id = this.ids.get(t);
    if (id !== undefined) return id;
    id = this.names.push(t) - 1;
    this.ids.set(t, id);
    if (id >= this.dfOf.length) {
      const size = 2 * this.dfOf.length;
      const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(size);
        b.set(a);
        return b;
      };
      this.dfOf = grow(this.dfOf, (k) => new Float64Array(k));
      this.sum = grow(this.sum, (k) => new Float64Array(k));
      this.support = grow(this.support, (k) => new Int32Array(k));
      this.cw = grow(this.cw, (k) => new Float64Array(k));
    }
    this.dfOf[id] = Math.min(this.n, Math.max(0, this.stats.df(t) || 0));
    return id;
  }

  vector(d: number): DocVector {
    const cached = this.vectors[d];
    if (cached) return cached;
    const doc = this.docs[d];
    const tf = new Map<string, number>();
    addFieldTerms(doc.title, TITLE_TF, tf);
    addFieldTerms(doc.abstract, 1, tf);
    const entries: [number, number][] = [];
    let norm = 0;
    for (const [t, f] of tf) {
      const id = this.termId(t);
      const df = this.dfOf[id];
      // A term no other paper of the collection has cannot relate two papers.
      if (df < 2) continue;
      const w = (1 + Math.log(f)) * Math.log((this.n + 1) / df);
      if (w <= 0) continue;
      entries.push([id, w]);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    // Heaviest first, ties by term (not by id, which depends on the order papers were seen).
    entries.sort((a, b) => b[1] - a[1] || (this.names[a[0]] < this.names[b[0]] ? -1 : 1));
    entries.length = Math.min(entries.length, DOC_TERMS);
    const v: DocVector = { ids: new Int32Array(entries.length), w: new Float64Array(entries.length), top: new Uint8Array(entries.length) };
    entries.forEach(([id, w], i) => {
      v.ids[i] = id;
      v.w[i] = w / norm;
      v.top[i] = i < DOC_TOP_TERMS ? 1 : 0;
    });
    this.vectors[d] = v;
    return v;
  }

  /**
   * The centroid of a topic's confident matches (batch indexes, best first), without the query's
   * stems. Undefined when there are fewer than MIN_FEEDBACK_DOCS of them or they share no
   * distinctive term.
   */
  centroid(confident: number[], queryStems: ReadonlySet<string>): Centroid | undefined {
    if (confident.length < MIN_FEEDBACK_DOCS) return undefined;
    const members = confident.slice(0, FEEDBACK_DOCS);
    const k = members.length;
    const { sum, support, cw } = this;
    const touched: number[] = [];
    for (const d of members) {
      const v = this.vector(d);
      for (let i = 0; i < v.ids.length && v.top[i]; i++) {
        const id = v.ids[i];
        if (support[id] === 0) touched.push(id);
        sum[id] += v.w[i];
        support[id]++;
      }
    }
    const terms: number[] = [];
    for (const id of touched) {
      if (support[id] >= MIN_SUPPORT && !mentionsQuery(this.names[id], queryStems)) terms.push(id);
    }
    terms.sort((a, b) => sum[b] - sum[a] || (this.names[a] < this.names[b] ? -1 : 1));
    terms.length = Math.min(terms.length, CENTROID_TERMS);
    const ids = Int32Array.from(terms);
    const weights = Float64Array.from(terms, (id) => sum[id] / k);
    for (const id of touched) {
      sum[id] = 0;
      support[id] = 0;
    }
    if (ids.length === 0) return undefined;
    let norm = 0;
    for (let i = 0; i < ids.length; i++) {
      norm += weights[i] * weights[i];
      cw[ids[i]] = weights[i];
    }
    norm = Math.sqrt(norm);
    // Leave one out: a member against the centroid without its own top terms.
    const leaveOneOut = new Map<number, number>();
    const loo: number[] = [];
    for (const d of members) {
      const v = this.vector(d);
      // The others' centroid: (k·c − own top weight) / (k − 1) on each centroid term.
      const scale = k / (k - 1);
      let dot = 0;
      let rnorm = norm * norm * scale * scale;
      for (let i = 0; i < v.ids.length; i++) {
        const c = cw[v.ids[i]];
        if (c === 0) continue;
        const rest = v.top[i] ? (c * k - v.w[i]) / (k - 1) : c * scale;
        rnorm += rest * rest - c * scale * (c * scale);
        dot += rest * v.w[i];
      }
      rnorm = Math.max(0, rnorm);
      const sim = rnorm > 0 ? dot / Math.sqrt(rnorm) : 0;
      leaveOneOut.set(d, sim);
      loo.push(sim);
    }
    for (let i = 0; i < ids.length; i++) cw[ids[i]] = 0;
    loo.sort((a, b) => a - b);
    const mid = loo.length >> 1;
    const level = loo.length % 2 ? loo[mid] : (loo[mid - 1] + loo[mid]) / 2;
    return { ids, weights, norm, level, leaveOneOut, terms: terms.slice(0, 5).map((id) => this.names[id]) };
  }

  /** Cosines of papers with the centroid (leave one out for the centroid's own members). */
  similarities(docs: number[], c: Centroid): Float64Array {
    const { cw } = this;
    for (let i = 0; i < c.ids.length; i++) cw[c.ids[i]] = c.weights[i];
    const out = new Float64Array(docs.length);
    docs.forEach((d, j) => {
      const own = c.leaveOneOut.get(d);
      if (own !== undefined) {
        out[j] = own;
        return;
      }
      const v = this.vector(d);
      let dot = 0;
      for (let i = 0; i < v.ids.length; i++) dot += cw[v.ids[i]] * v.w[i];
      out[j] = c.norm > 0 ? dot / c.norm : 0;
    });
    for (let i = 0; i < c.ids.length; i++) cw[c.ids[i]] = 0;
    return out;
  }

  /**
   * Papers of the batch outside `exclude` whose similarity with the centroid reaches `level`
   * (batch index → similarity). Builds the batch's term postings on first use.
   */
  similarPapers(c: Centroid, level: number, exclude: ReadonlySet<number>): Map<number, number> {
    if (!this.postings) {
      const postings: { docs: number[]; w: number[] }[] = [];
      for (let d = 0; d < this.docs.length; d++) {
        const v = this.vector(d);
        for (let i = 0; i < v.ids.length; i++) {
          const p = (postings[v.ids[i]] ??= { docs: [], w: [] });
          p.docs.push(d);
          p.w.push(v.w[i]);
        }
      }
      this.postings = postings;
    }
    const acc = new Map<number, number>();
    for (let i = 0; i < c.ids.length; i++) {
      const p = this.postings[c.ids[i]];
      if (!p) continue;
      for (let j = 0; j < p.docs.length; j++) acc.set(p.docs[j], (acc.get(p.docs[j]) ?? 0) + c.weights[i] * p.w[j]);
    }
    const out = new Map<number, number>();
    for (const [d, dot] of acc) {
      if (exclude.has(d)) continue;
      const sim = c.norm > 0 ? dot / c.norm : 0;
      if (level > 0 && sim >= level) out.set(d, sim);
    }
    return out;
  }
}
