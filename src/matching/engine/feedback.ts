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
 * A FeedbackIndex belongs to one batch and one statistics object (PaperBatch.feedbackIndex keeps it
 * for as long as both, so a digest's topic batches share it). The first centroid builds every
 * paper's vector and the batch's term postings, so that comparing a topic's centroid with the papers
 * visits only those that share its terms; term ids come from a process-wide dictionary (text only,
 * no statistics). Centroids are not kept: each topic's is made once.
 */

/** At most this many confident matches (the best) form the feedback set. */
export const FEEDBACK_DOCS = 10;
/** Fewer confident matches than this: no feedback (one paper alone is no consensus). */
export const MIN_FEEDBACK_DOCS = 2;
/** A paper's most distinctive terms: the ones it can contribute to a centroid. */
export const DOC_TOP_TERMS = 20;
/** Terms kept of a paper's vector (the heaviest; the rest are common words of little weight). */
export const DOC_TERMS = 100;
/** Terms kept in a topic's centroid. */
export const CENTROID_TERMS = 30;
/** A centroid term must be among the top terms of at least this many feedback papers. */
export const MIN_SUPPORT = 2;
/** Slots of the centroid's table: a power of two, over twice FEEDBACK_DOCS × DOC_TOP_TERMS. */
const SLOT_BITS = 10;
const SLOTS = 1 << SLOT_BITS;
/** Title occurrences count this many times (as in scoring). */
const TITLE_TF = 3;

interface DocVector {
  /**
   * Term ids (of this run) and weights (of the unit-length vector over all terms), heaviest DOC_TERMS,
   * heaviest first: the first DOC_TOP_TERMS are the paper's most distinctive.
   */
  ids: Int32Array;
  w: Float64Array;
}

export interface Centroid {
  /** Term ids of this run, heaviest first, and their weights. */
  ids: Int32Array;
  weights: Float64Array;
  norm: number;
  /** Median leave-one-out similarity of the feedback papers: the feedback set's own level. */
  level: number;
  /** The feedback papers (batch indexes, in the order given) and the similarity of each with the centroid of the others. */
  members: Int32Array;
  leaveOneOut: Float64Array;
  /** With `compare` given to centroid(): the cosines of those papers with it (leave one out for its own members). */
  similarities?: Float64Array;
}

function isNumber(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Slot of a pair of ids in a table of 2^bits (multiplicative hashing: the high bits are the best mixed). */
function pairHash(a: number, b: number, bits: number): number {
  return Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) >>> (32 - bits);
}

/**
 * Ids of stems and adjacent-stem bigrams for the whole process: a run builds vectors over tens of
 * thousands of terms, and most of them recur from run to run. Giving each term its id and its
 * statistics key ("stem1 stem2", see `documentTerms`) once means a run makes no key strings and
 * hashes none afresh: its df lookups use kept strings, whose hash V8 keeps. It depends on the text
 * only, never on the statistics (see "Caches and statistics" in docs/matching.md); past
 * DICTIONARY_MAX terms the next run starts a new one.
 */
class TermDictionary {
  private readonly stemIds = new Map<string, number>();
  /**
   * Bigram ids by their two stems' ids: an open-addressing table of term ids (-1: empty), the key
   * read back from first/second. A run looks up every adjacent pair of every paper, and a table of
   * typed arrays does that several times faster than nested Maps.
   */
  private pairBits = 16;
  private pairSlots = new Int32Array(1 << 16).fill(-1);
  private pairCount = 0;
  readonly names: string[] = [];
  /** A bigram's two stems (their ids), -1 for a stem. */
  first = new Int32Array(1024).fill(-1);
  second = new Int32Array(1024).fill(-1);

  get size(): number {
    return this.names.length;
  }

  /** The id of a stem, if it has one. */
  stemIfKnown(stem: string): number | undefined {
    return this.stemIds.get(stem);
  }

  stem(stem: string): number {
    let id = this.stemIds.get(stem);
    if (id === undefined) {
      id = this.add(stem);
      this.stemIds.set(stem, id);
    }
    return id;
  }

  pair(a: number, b: number): number {
    const slots = this.pairSlots;
    const mask = slots.length - 1;
    let slot = pairHash(a, b, this.pairBits);
    for (let id = slots[slot]; id !== -1; id = slots[slot]) {
      if (this.first[id] === a && this.second[id] === b) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.add(bigramKey(this.names[a], this.names[b]));
    this.first[id] = a;
    this.second[id] = b;
    slots[slot] = id;
    if (2 * ++this.pairCount > slots.length) this.growPairs();
    return id;
  }

  private growPairs(): void {
    this.pairBits++;
    const slots = new Int32Array(1 << this.pairBits).fill(-1);
    const mask = slots.length - 1;
    for (const id of this.pairSlots) {
      if (id === -1) continue;
      let slot = pairHash(this.first[id], this.second[id], this.pairBits);
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.pairSlots = slots;
  }

  private add(name: string): number {
    const id = this.names.push(name) - 1;
    if (id >= this.first.length) {
      this.first = grown(this.first, 2 * this.first.length, -1);
      this.second = grown(this.second, 2 * this.second.length, -1);
    }
    return id;
  }
}

/** Terms the process-wide dictionary may hold before a run starts a new one (some 80 MB at most). */
const DICTIONARY_MAX = 1 << 20;
let dictionary: TermDictionary | undefined;

function currentDictionary(): TermDictionary {
  if (!dictionary || dictionary.size > DICTIONARY_MAX) dictionary = new TermDictionary();
  return dictionary;
}

/** A larger copy of a typed array, of the same kind (the rest filled with `fill`). */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, size: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

/** Term vectors of one batch under one statistics object (one matching run). */
export class FeedbackIndex {
  private readonly vectors: (DocVector | undefined)[];
  private readonly n: number;
  /**
   * Terms of this run, numbered from 0 in the order met (so that the dense arrays below stay as
   * small as the run): localOf[dictionary id] → run id (-1: not met yet), globalOf[run id] →
   * dictionary id, dfOf[run id] its df.
   */
  private readonly dict = currentDictionary();
  private localOf = new Int32Array(0);
  private readonly globalOf: number[] = [];
  private dfOf = new Float64Array(1024);
  /** 1 at the dictionary ids of the query stems while a centroid is built. */
  private queryMark = new Uint8Array(0);
  /** Dense scratch indexed by run id: a paper's term frequencies and weights. */
  private tf = new Float64Array(1024);
  private termWeight = new Float64Array(1024);
  /** A paper's term weights, for finding the DOC_TERMS-th heaviest. */
  private weightScratch = new Float64Array(512);
  /** The centroid's table (see centroid): term, sum of weights, number of members, and the slots in use. */
  private readonly slotTerm = new Int32Array(SLOTS).fill(-1);
  private readonly slotSum = new Float64Array(SLOTS);
  private readonly slotSupport = new Int32Array(SLOTS);
  private readonly usedSlots: number[] = [];
  /** Run ids touched by the vector being built. */
  private readonly touched: number[] = [];
  /** A field's occurrences chained by start position (dictionary id of the stem, end, next at the same start). */
  private headAt = new Int32Array(256);
  private occStem = new Int32Array(1024);
  private occEnd = new Int32Array(1024);
  private occNext = new Int32Array(1024);
  private postingStart: Int32Array | undefined;
  private postingDoc: Int32Array | undefined;
  private postingW: Float64Array | undefined;
  private postingTop: Uint8Array | undefined;
  /** Per paper of the batch, while a centroid is compared (see accumulate), and the papers touched. */
  private accA = new Float64Array(0);
  private accB = new Float64Array(0);
  private accQ = new Float64Array(0);
  private readonly accDocs: number[] = [];

  constructor(
    private readonly docs: AnalyzedPaper[],
    private readonly stats: CollectionStats,
  ) {
    this.vectors = new Array(docs.length);
    this.n = Math.max(1, stats.docCount);
  }

  /** The run id of a dictionary id, given one when first met. */
  private local(gid: number): number {
    if (gid >= this.localOf.length) this.localOf = grown(this.localOf, Math.max(2 * this.localOf.length, this.dict.size, 1024), -1);
    let id = this.localOf[gid];
    if (id >= 0) return id;
    id = this.globalOf.push(gid) - 1;
    this.localOf[gid] = id;
    if (id >= this.dfOf.length) {
      const size = 2 * this.dfOf.length;
      this.dfOf = grown(this.dfOf, size);
      this.tf = grown(this.tf, size);
      this.termWeight = grown(this.termWeight, size);
    }
    this.dfOf[id] = Math.min(this.n, Math.max(0, this.stats.df(this.dict.names[gid]) || 0));
    return id;
  }

  /** The statistics key of a run id. */
  private name(id: number): string {
    return this.dict.names[this.globalOf[id]];
  }

  /** Whether a term (run id of a stem or bigram) contains a stem marked in queryMark. */
  private mentionsQuery(id: number): boolean {
    const q = this.queryMark;
    const g = this.globalOf[id];
    if (q[g] === 1) return true;
    const first = this.dict.first[g];
    return first >= 0 && (q[first] === 1 || q[this.dict.second[g]] === 1);
  }

  /**
   * Adds a field's stems and adjacent-stem bigrams (joined compounds included: a start can hold
   * several stems), numbers left out, to the tf scratch, `weight` per occurrence.
   */
  private addField(field: FieldIndex, weight: number): void {
    const { touched } = this;
    if (this.headAt.length < field.length + 2) this.headAt = new Int32Array(2 * field.length + 2);
    const head = this.headAt.fill(-1, 0, field.length + 2);
    let count = 0;
    const dict = this.dict;
    for (const [stem, occ] of field.occ) {
      const gid = isNumber(stem) ? -1 : dict.stem(stem);
      if (gid >= 0) {
        const id = this.local(gid);
        // Read after local(), which may have grown the arrays.
        const tf = this.tf;
        if (tf[id] === 0) touched.push(id);
        tf[id] += weight * (occ.length >> 1);
      }
      if (count + (occ.length >> 1) > this.occStem.length) {
        const size = 2 * (count + (occ.length >> 1));
        this.occStem = grown(this.occStem, size);
        this.occEnd = grown(this.occEnd, size);
        this.occNext = grown(this.occNext, size);
      }
      for (let i = 0; i < occ.length; i += 2) {
        this.occStem[count] = gid;
        this.occEnd[count] = occ[i + 1];
        this.occNext[count] = head[occ[i]];
        head[occ[i]] = count++;
      }
    }
    const { occStem, occEnd, occNext } = this;
    for (let e = 0; e < count; e++) {
      const a = occStem[e];
      if (a < 0) continue;
      const after = occEnd[e] + 1;
      if (after > field.length) continue;
      for (let o = head[after]; o >= 0; o = occNext[o]) {
        const b = occStem[o];
        if (b < 0 || b === a) continue;
        const id = this.local(dict.pair(a, b));
        const tf = this.tf;
        if (tf[id] === 0) touched.push(id);
        tf[id] += weight;
      }
    }
  }

  vector(d: number): DocVector {
    const cached = this.vectors[d];
    if (cached) return cached;
    const doc = this.docs[d];
    const touched = this.touched;
    touched.length = 0;
    this.addField(doc.title, TITLE_TF);
    this.addField(doc.abstract, 1);
    const { tf, dfOf } = this;
    const kept: number[] = [];
    const weight = this.termWeight;
    let norm = 0;
    for (const id of touched) {
      const f = tf[id];
      tf[id] = 0;
      const df = dfOf[id];
      // A term no other paper of the collection has cannot relate two papers.
      if (df < 2) continue;
      const w = (1 + Math.log(f)) * Math.log((this.n + 1) / df);
      if (w <= 0) continue;
      kept.push(id);
      weight[id] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    // Only the heaviest DOC_TERMS are kept: the weight of the DOC_TERMS-th (a numeric sort, native)
    // bounds what the ordering (by weight, then by name for a deterministic cut among ties) needs to see.
    let ranked = kept;
    if (kept.length > DOC_TERMS) {
      const weights = this.weightScratch.length >= kept.length ? this.weightScratch.subarray(0, kept.length) : (this.weightScratch = new Float64Array(2 * kept.length)).subarray(0, kept.length);
      for (let i = 0; i < kept.length; i++) weights[i] = weight[kept[i]];
      weights.sort();
      const bound = weights[kept.length - DOC_TERMS];
      ranked = kept.filter((id) => weight[id] >= bound);
    }
    // Heaviest first, ties by term (not by id, which depends on the order papers were seen).
    ranked.sort((a, b) => weight[b] - weight[a] || (this.name(a) < this.name(b) ? -1 : 1));
    const size = Math.min(ranked.length, DOC_TERMS);
    const v: DocVector = { ids: new Int32Array(size), w: new Float64Array(size) };
    for (let i = 0; i < size; i++) {
      const id = ranked[i];
      v.ids[i] = id;
      v.w[i] = weight[id] / norm;
    }
    for (const id of kept) weight[id] = 0;
    this.vectors[d] = v;
    return v;
  }

  /**
   * The centroid of a topic's confident matches (batch indexes, best first), without the query's
   * stems. Undefined when there are fewer than MIN_FEEDBACK_DOCS of them or they share no
   * distinctive term.
   */
  centroid(confident: number[], queryStems: ReadonlySet<string>, compare?: number[]): Centroid | undefined {
    if (confident.length < MIN_FEEDBACK_DOCS) return undefined;
    const k = Math.min(confident.length, FEEDBACK_DOCS);
    // Vectors first: building one may grow the scratch arrays read below.
    for (let j = 0; j < k; j++) this.vector(confident[j]);
    // The members' top terms, summed in a small open-addressing table (a few hundred terms at most):
    // it stays in the CPU cache, where arrays over all the run's terms would miss at every term.
    const { slotTerm, slotSum, slotSupport, usedSlots } = this;
    usedSlots.length = 0;
    for (let j = 0; j < k; j++) {
      const v = this.vectors[confident[j]]!;
      for (let i = 0, top = Math.min(v.ids.length, DOC_TOP_TERMS); i < top; i++) {
        const id = v.ids[i];
        let slot = Math.imul(id, 0x9e3779b1) >>> (32 - SLOT_BITS);
        while (slotTerm[slot] !== id && slotTerm[slot] !== -1) slot = (slot + 1) & (SLOTS - 1);
        if (slotTerm[slot] === -1) {
          slotTerm[slot] = id;
          usedSlots.push(slot);
        }
        slotSum[slot] += v.w[i];
        slotSupport[slot]++;
      }
    }
    // A query stem without a dictionary id is in no term of any vector: nothing to mark.
    if (this.queryMark.length < this.dict.size) this.queryMark = grown(this.queryMark, Math.max(2 * this.queryMark.length, this.dict.size));
    const marked: number[] = [];
    for (const stem of queryStems) {
      const gid = this.dict.stemIfKnown(stem);
      if (gid !== undefined) {
        this.queryMark[gid] = 1;
        marked.push(gid);
      }
    }
    const chosen: number[] = [];
    for (const slot of usedSlots) {
      if (slotSupport[slot] >= MIN_SUPPORT && !this.mentionsQuery(slotTerm[slot])) chosen.push(slot);
    }
    for (const id of marked) this.queryMark[id] = 0;
    // The heaviest CENTROID_TERMS, ties by name: only what weighs as much as the CENTROID_TERMS-th
    // (a numeric sort, native) needs the ordering.
    let ranked = chosen;
    if (chosen.length > CENTROID_TERMS) {
      const sums = Float64Array.from(chosen, (slot) => slotSum[slot]).sort();
      const bound = sums[chosen.length - CENTROID_TERMS];
      ranked = chosen.filter((slot) => slotSum[slot] >= bound);
    }
    ranked.sort((a, b) => slotSum[b] - slotSum[a] || (this.name(slotTerm[a]) < this.name(slotTerm[b]) ? -1 : 1));
    ranked.length = Math.min(ranked.length, CENTROID_TERMS);
    const ids = new Int32Array(ranked.length);
    const weights = new Float64Array(ranked.length);
    for (let i = 0; i < ranked.length; i++) {
      ids[i] = slotTerm[ranked[i]];
      weights[i] = slotSum[ranked[i]] / k;
    }
    for (const slot of usedSlots) {
      slotTerm[slot] = -1;
      slotSum[slot] = 0;
      slotSupport[slot] = 0;
    }
    if (ids.length === 0) return undefined;
    let norm = 0;
    for (let i = 0; i < ids.length; i++) norm += weights[i] * weights[i];
    norm = Math.sqrt(norm);
    const members = Int32Array.from(confident.slice(0, k));
    const leaveOneOut = new Float64Array(k);
    const scale = k / (k - 1);
    // Each member against the centroid of the others: with A = Σ c·w over the centroid terms of its
    // vector, and B = Σ c·w, Q = Σ w² over those among its DOC_TOP_TERMS (the terms it gave the
    // centroid), the others' centroid is scale·c less w/(k−1) on those, so its dot with the member is
    // scale·A − Q/(k−1) and its squared norm scale²·|c|² + (Q − 2k·B)/(k−1)².
    this.accumulate(ids, weights);
    const { accA, accB, accQ } = this;
    for (let j = 0; j < k; j++) {
      const d = members[j];
      const dot = scale * accA[d] - accQ[d] / (k - 1);
      const rnorm = Math.max(0, norm * norm * scale * scale + (accQ[d] - 2 * k * accB[d]) / ((k - 1) * (k - 1)));
      leaveOneOut[j] = rnorm > 0 ? dot / Math.sqrt(rnorm) : 0;
    }
    const centroid: Centroid = { ids, weights, norm, level: 0, members, leaveOneOut };
    // The papers to rank, read from the same sums.
    if (compare) centroid.similarities = this.readSimilarities(compare, centroid);
    this.clearAccumulators();
    const loo = Float64Array.from(leaveOneOut).sort();
    const mid = k >> 1;
    centroid.level = k % 2 ? loo[mid] : (loo[mid - 1] + loo[mid]) / 2;
    return centroid;
  }

  /** The centroid's n heaviest terms, for explanations. */
  termNames(c: Centroid, n: number): string[] {
    return Array.from(c.ids.subarray(0, n), (id) => this.name(id));
  }

  /**
   * Cosines of papers with the centroid `c` (leave one out for its own members), from the sums
   * accumulated for it.
   */
  private readSimilarities(docs: number[], c: Centroid): Float64Array {
    const out = new Float64Array(docs.length);
    for (let j = 0; j < docs.length; j++) {
      const d = docs[j];
      // A feedback paper is compared with the centroid of the others.
      const member = c.members.indexOf(d);
      out[j] = member >= 0 ? c.leaveOneOut[member] : c.norm > 0 ? this.accA[d] / c.norm : 0;
    }
    return out;
  }

  /**
   * The batch's term postings (CSR: the papers whose vector holds a term, with its weight and
   * whether it is among the paper's DOC_TOP_TERMS), built with every paper's vector on first use:
   * a topic's centroid then visits the few papers that share its terms instead of every term of
   * every paper it ranks.
   */
  private postings(): void {
    if (this.postingStart) return;
    for (let d = 0; d < this.docs.length; d++) this.vector(d);
    const terms = this.globalOf.length;
    const start = new Int32Array(terms + 1);
    for (const v of this.vectors) for (let i = 0; i < v!.ids.length; i++) start[v!.ids[i] + 1]++;
    for (let t = 0; t < terms; t++) start[t + 1] += start[t];
    const fill = start.slice(0, terms);
    const doc = new Int32Array(start[terms]);
    const w = new Float64Array(start[terms]);
    const top = new Uint8Array(start[terms]);
    this.vectors.forEach((v, d) => {
      for (let i = 0; i < v!.ids.length; i++) {
        const at = fill[v!.ids[i]]++;
        doc[at] = d;
        w[at] = v!.w[i];
        top[at] = i < DOC_TOP_TERMS ? 1 : 0;
      }
    });
    this.postingStart = start;
    this.postingDoc = doc;
    this.postingW = w;
    this.postingTop = top;
    this.accA = new Float64Array(this.docs.length);
    this.accB = new Float64Array(this.docs.length);
    this.accQ = new Float64Array(this.docs.length);
  }

  /** Fills accA (Σ c·w), accB (Σ c·w) and accQ (Σ w²), the last two over top terms, for the papers that share a term with the centroid. */
  private accumulate(ids: Int32Array, weights: Float64Array): void {
    this.postings();
    const { postingStart, postingDoc, postingW, postingTop, accA, accB, accQ, accDocs } = this;
    for (let i = 0; i < ids.length; i++) {
      const c = weights[i];
      for (let p = postingStart![ids[i]], end = postingStart![ids[i] + 1]; p < end; p++) {
        const d = postingDoc![p];
        const w = postingW![p];
        if (accA[d] === 0 && accQ[d] === 0) accDocs.push(d);
        accA[d] += c * w;
        if (postingTop![p]) {
          accB[d] += c * w;
          accQ[d] += w * w;
        }
      }
    }
  }

  private clearAccumulators(): void {
    for (const d of this.accDocs) {
      this.accA[d] = 0;
      this.accB[d] = 0;
      this.accQ[d] = 0;
    }
    this.accDocs.length = 0;
  }

  /**
   * Papers of the batch outside `exclude` whose similarity with the centroid reaches `level`
   * (batch index → similarity). Builds the batch's term postings on first use.
   */
  similarPapers(c: Centroid, level: number, exclude: ReadonlySet<number>): Map<number, number> {
    this.accumulate(c.ids, c.weights);
    const out = new Map<number, number>();
    for (const d of this.accDocs) {
      if (exclude.has(d)) continue;
      const sim = c.norm > 0 ? this.accA[d] / c.norm : 0;
      if (level > 0 && sim >= level) out.set(d, sim);
    }
    this.clearAccumulators();
    return out;
  }
}
