import { AnalyzedPaper, analyzePaper, FieldIndex } from './analyze';
import { altKeys, AndNode, Backoff, CompiledNode, CompiledTopic, LeafNode, Pattern, patternBoundaryKeys, patternTrigramWindows, Slot } from './compile';
import { FEEDBACK_DOCS, FeedbackIndex, MIN_FEEDBACK_DOCS } from './feedback';
import type { CollectionStats } from './stats';
import { BACKGROUND, GAP_BEFORE, LIST_AFTER, LIST_BEFORE, NOMINAL, PARENTHESIZED, PUNCT_BEFORE, scanTokens, SENTENCE_START } from './tokenize';
import type { EnginePaper, TopicMatch } from './types';

/**
 * Scoring (see docs/matching.md). Each query concept (a plain-word run, a quoted phrase, an OR
 * group) gets a BM25F-style score from its words and, for several words, from the whole phrase
 * (adjacent, or near each other in the order typed), with IDF from the collection statistics and
 * title occurrences weighted above abstract ones. A word of a multi-word concept counts in proportion to its
 * association with the phrase in the collection (df(phrase) / df(word)). The concept's score is
 * divided by its reference score: what a paper of average length earns by stating the concept
 * verbatim once in its abstract. A paper is sent when every required concept reaches half of
 * that reference (MEMBERSHIP) and no exclusion is present; it is ranked by the sum of the
 * concepts' ratio × reference, where a concept's ranking ratio also counts the lone words that
 * refer back to a phrase the paper has named (see patternRatio). A phrase named only as a middle
 * item of a list counts as its words only (see enumerated).
 */
export const K1 = 1.2;
export const SAT_MAX = K1 + 1;
export const TITLE_WEIGHT = 3;
export const ABSTRACT_WEIGHT = 1;
export const TITLE_B = 0.3;
export const ABSTRACT_B = 0.75;
export const PHRASE_WEIGHT = 1;
export const MEMBERSHIP = 0.5;
/**
 * What an occurrence of a related form counts for where an abstract names it in passing, relative to
 * one elsewhere: half. In passing means
 * - in the abstract's opening (tokenize's BACKGROUND: the sentences before the first that speaks of
 *   the paper's own work). A method the opening names to set the scene ("… affects the starting
 *   conditions for reinforcement learning from human feedback (RLHF)"; "Common memory-reduction
 *   approaches, such as low-rank adaptation (LoRA), …") is the field the paper stands in, not what
 *   it does; from the first "we" on, the abstract says what the paper does ("we use head
 *   attribution to identify individual attention heads").
 * - in a parenthetical aside: parentheses that hold other words too ("(e.g., word tokens for ViT)",
 *   "(unlike, say, with lottery tickets)"), not the abbreviation of what precedes them ("(LoRA)").
 * Only related forms: the query's own words in an opening name the paper's topic ("Diffusion
 * models have …"), which its later sentences call "our method".
 */
export const PASSING_WEIGHT = 0.5;
/**
 * In the ranking (not for membership), a related form in the title counts this much more: the
 * title names what the paper is about, so a paper titled with a method of the area ("Test-time
 * Batch Statistics Calibration for Covariate Shift" for distribution shift) is about the area, more
 * than one that names the query once in passing in its abstract. Halfway between soft evidence
 * (CONCEPT_WEIGHT) and the query's own words.
 */
export const RELATED_TITLE_RANK = 1.5;
/**
 * Feedback ranking: a sent paper's score is multiplied by 1 + FEEDBACK_LIFT × min(2, its similarity
 * to the topic's confident matches in units of their own level), i.e. by at most 1.5.
 */
export const FEEDBACK_LIFT = 0.25;
/**
 * Evidence that adds up (membership only): a paper that names the query's words too weakly to pass
 * on them alone (one of two words, words far apart) and names a related form that shares no word
 * with the query ("generalization" and "bounds" far apart beside "PAC learning", for
 * `generalization bounds`) has two pieces of evidence where each rule sees one. The two ratios
 * combine as the stronger plus COMBINED_WEIGHT times the weaker (half: both come from a paper near
 * the area, so they are not independent draws), when the weaker reaches COMBINED_FLOOR (a fifth of
 * the threshold: one common word of the query, "models" or "laws", is no evidence). A related form
 * that repeats a query word ("human preferences" for `preference optimization`) is not counted
 * again beside that word. The ranking is unchanged: such papers rank by their stronger evidence.
 */
export const COMBINED_WEIGHT = 0.5;
export const COMBINED_FLOOR = 0.1;

/** The membership ratio of a leaf from its own words' ratio and its independent related forms' (see COMBINED_WEIGHT); 0 when they do not combine. */
export function combinedRatio(own: number, related: number): number {
  const weaker = Math.min(own, related);
  return weaker >= COMBINED_FLOOR ? Math.max(own, related) + COMBINED_WEIGHT * weaker : 0;
}

/** Words further apart than this many other content words do not count as near each other. */
export const MAX_GAP = 8;
/**
 * Author names are written "Yoshua Bengio" or "Bengio, Yoshua": in that field, the words of a
 * name out of order still count (this much). In titles and abstracts they do not: reversing a
 * noun compound names something else ("learning contexts" is no in-context learning, "learning in
 * continuous time" no continual learning, "generative models such as Stable Diffusion" no
 * diffusion models). See docs/matching.md for what this changed.
 */
const AUTHOR_OUT_OF_ORDER = 0.8;

type FieldName = 'title' | 'abstract' | 'author';

const EMPTY: number[] = [];

/**
 * The occurrence lists of a multi-stem spelling's later stems, reused by every altOccurrences call
 * (it is not reentrant): matching asks for well over a million spellings per run, and most of
 * them find nothing, so neither this list nor the result should cost an allocation.
 */
const restScratch: number[][] = [];

/** Whether a position after start, up to end, carries one of the cues `mask`. */
function cueInside(cues: Uint8Array | undefined, start: number, end: number, mask: number): boolean {
  if (cues === undefined) return false;
  for (let i = start + 1; i <= end; i++) if (cues[i] & mask) return true;
  return false;
}

/** Whether a sentence starts inside start..end (after start): the span runs across two sentences. */
function crossesSentence(cues: Uint8Array | undefined, start: number, end: number): boolean {
  return cueInside(cues, start, end, SENTENCE_START);
}

/**
 * Occurrences of one spelling (stem sequence) of a slot, as flat [start, end, …] pairs sorted by
 * start; a multi-stem spelling within one sentence.
 */
function altOccurrences(alt: string[], field: FieldIndex): number[] {
  const first = field.occ.get(alt[0]);
  if (!first) return EMPTY;
  if (alt.length === 1) return first;
  const rest = restScratch;
  for (let k = 1; k < alt.length; k++) {
    const l = field.occ.get(alt[k]);
    if (!l) return EMPTY;
    rest[k - 1] = l;
  }
  const restCount = alt.length - 1;
  let out: number[] | undefined;
  for (let i = 0; i < first.length; i += 2) {
    let end = first[i + 1];
    let ok = true;
    for (let r = 0; r < restCount; r++) {
      const l = rest[r];
      let found = -1;
      for (let j = 0; j < l.length; j += 2) {
        if (l[j] === end + 1) {
          found = l[j + 1];
          break;
        }
        if (l[j] > end + 1) break;
      }
      if (found < 0) {
        ok = false;
        break;
      }
      end = found;
    }
    if (ok && !crossesSentence(field.cues, first[i], end)) (out ??= []).push(first[i], end);
  }
  return out ?? EMPTY;
}

/** slotOccurrences' lists being merged and a read position in each (it is not reentrant). */
const slotScratch: number[][] = [];
let slotCursor = new Int32Array(16);

/**
 * Occurrences of a slot (any spelling) in a field, flat [start, end, …] pairs, one per start
 * position (with the furthest end of the spellings starting there).
 */
function slotOccurrences(slot: Slot, field: FieldIndex): number[] {
  if (slot.alts.length === 1) return altOccurrences(slot.alts[0], field);
  // The spellings found are merged (each list is sorted by start) rather than concatenated and
  // sorted: most slots have one or two, and the sort copied every pair into an array of its own.
  const lists = slotScratch;
  if (slotCursor.length < slot.alts.length) slotCursor = new Int32Array(slot.alts.length);
  const cursor = slotCursor;
  let count = 0;
  for (const alt of slot.alts) {
    const o = altOccurrences(alt, field);
    if (o.length === 0) continue;
    lists[count] = o;
    cursor[count] = 0;
    count++;
  }
  if (count === 0) return EMPTY;
  if (count === 1) return lists[0];
  const flat: number[] = [];
  for (;;) {
    let start = Infinity;
    for (let k = 0; k < count; k++) if (cursor[k] < lists[k].length && lists[k][cursor[k]] < start) start = lists[k][cursor[k]];
    if (start === Infinity) return flat;
    let end = -1;
    for (let k = 0; k < count; k++) {
      const l = lists[k];
      // A list may hold one start twice (a joined form besides a part with the same stem).
      for (; cursor[k] < l.length && l[cursor[k]] === start; cursor[k] += 2) if (l[cursor[k] + 1] > end) end = l[cursor[k] + 1];
    }
    flat.push(start, end);
  }
}

/** Which spelling of a slot a field uses first, for explanations. */
function matchedAlt(slot: Slot, field: FieldIndex): number {
  let best = -1;
  let bestStart = Infinity;
  slot.alts.forEach((alt, a) => {
    const o = altOccurrences(alt, field);
    if (o.length && o[0] < bestStart) {
      best = a;
      bestStart = o[0];
    }
  });
  return Math.max(0, best);
}

interface Window {
  start: number;
  end: number;
  q: number;
  exact: boolean;
}

/**
 * The windows of the last findWindows call, in parallel arrays reused by every call (a run looks
 * for windows in tens of thousands of candidate papers; objects and a sort per call were a fair part
 * of its garbage), with the per-slot read positions and last occurrences of the merge.
 */
let winStart = new Int32Array(64);
let winEnd = new Int32Array(64);
let winQ = new Float64Array(64);
let winExact = new Uint8Array(64);
let mergeCursor = new Int32Array(8);
let lastStart = new Int32Array(8);
let lastEnd = new Int32Array(8);

/**
 * Phrase evidence in one field: the smallest windows holding one occurrence of every slot
 * (occs[0 .. n), each sorted by start), non-overlapping, each worth 1 when adjacent and in order,
 * less with words in between; a window out of order is worth `outOfOrder` times as much (0: it
 * is no evidence). `p` (when given) is the pattern whose windows these are: its followers (see
 * headsOtherTerm, with `index`), and whether it is a head-first spelling (see headFirstBroken) or a
 * compound one (adjacent; see compoundBroken).
 * Leaves the windows in winStart / winEnd / winQ / winExact, best first (by q, then by start), and
 * returns how many there are.
 */
function findWindows(occs: number[][], n: number, outOfOrder: number, cues: Uint8Array | undefined, p?: Pattern, index?: FieldIndex): number {
  const followers = p?.followers;
  const headFirst = p?.headFirst !== undefined;
  const compound = p?.compound;
  const linked = p?.linked === true && n === 2;
  if (mergeCursor.length < n) {
    mergeCursor = new Int32Array(n);
    lastStart = new Int32Array(n);
    lastEnd = new Int32Array(n);
  }
  let total = 0;
  for (let s = 0; s < n; s++) {
    mergeCursor[s] = 0;
    lastStart[s] = -1;
    lastEnd[s] = -1;
    total += occs[s].length >> 1;
  }
  if (winStart.length < total) {
    const size = Math.max(total, 2 * winStart.length);
    winStart = new Int32Array(size);
    winEnd = new Int32Array(size);
    winQ = new Float64Array(size);
    winExact = new Uint8Array(size);
  }
  let seen = 0;
  let count = 0;
  // Every occurrence of every slot by start (ties: the lower slot first, then as listed): a merge
  // of the slots' lists, which are sorted by start.
  for (let step = 0; step < total; step++) {
    let s = -1;
    let st = Infinity;
    for (let k = 0; k < n; k++) {
      const c = mergeCursor[k];
      if (c < occs[k].length && occs[k][c] < st) {
        st = occs[k][c];
        s = k;
      }
    }
    const en = occs[s][mergeCursor[s] + 1];
    mergeCursor[s] += 2;
    if (lastStart[s] < 0) seen++;
    lastStart[s] = st;
    lastEnd[s] = en;
    if (seen < n) continue;
    let start = Infinity;
    let end = -1;
    let covered = 0;
    let inOrder = true;
    let prevStart = -1;
    for (let k = 0; k < n; k++) {
      if (lastStart[k] < start) start = lastStart[k];
      if (lastEnd[k] > end) end = lastEnd[k];
      covered += lastEnd[k] - lastStart[k] + 1;
      if (lastStart[k] <= prevStart) inOrder = false;
      prevStart = lastStart[k];
    }
    const gap = end - start + 1 - covered;
    if (gap < 0 || gap > MAX_GAP) continue; // overlapping spellings, or too far apart
    // A linked compound written "A of B" is the phrase, in order as the reader means it.
    if (!inOrder && linked && gap === 0 && !linkBroken(cues, index, start, end)) inOrder = true;
    if (!inOrder && outOfOrder <= 0) continue;
    if (headFirst && (gap > HEAD_FIRST_GAP || headFirstBroken(cues, start, end))) continue;
    if (compound && (gap > 0 || compoundBroken(cues, start, end, compound.nominal))) continue;
    // An adjacent phrase stays in its sentence; a looser window is proximity and may cross.
    if (gap === 0 && crossesSentence(cues, start, end)) continue;
    // A looser window whose first word heads another known term ("continual learning on a
    // pre-trained model" for continual pre-training) is that term's, not the query's.
    if (gap > 0 && inOrder && followers !== undefined && index !== undefined && n >= 2 && headsOtherTerm(followers, index, cues, lastEnd[0] + 1, lastStart[1])) continue;
    // Best first (higher q, then earlier start; stable): an insertion sort, as there are few.
    const q = (inOrder ? 1 : outOfOrder) / (1 + gap);
    let j = count;
    while (j > 0 && (winQ[j - 1] < q || (winQ[j - 1] === q && winStart[j - 1] > start))) {
      winStart[j] = winStart[j - 1];
      winEnd[j] = winEnd[j - 1];
      winQ[j] = winQ[j - 1];
      winExact[j] = winExact[j - 1];
      j--;
    }
    winStart[j] = start;
    winEnd[j] = end;
    winQ[j] = q;
    winExact[j] = inOrder && gap === 0 ? 1 : 0;
    count++;
  }
  // Non-overlapping: each window in turn, unless it overlaps one already chosen (kept in front).
  let chosen = 0;
  for (let i = 0; i < count; i++) {
    let free = true;
    for (let c = 0; c < chosen; c++) {
      if (!(winEnd[i] < winStart[c] || winStart[i] > winEnd[c])) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    winStart[chosen] = winStart[i];
    winEnd[chosen] = winEnd[i];
    winQ[chosen] = winQ[i];
    winExact[chosen] = winExact[i];
    chosen++;
  }
  return chosen;
}

/**
 * Whether one of `followers` (Pattern.followers) is the word of the field `index` at `at` (right
 * after the window's first word, with no stop word or punctuation before it, and before the
 * window's next query word).
 */
function headsOtherTerm(followers: readonly string[], index: FieldIndex, cues: Uint8Array | undefined, at: number, next: number): boolean {
  if (at >= next || (cues !== undefined && (cues[at] & GAP_BEFORE) !== 0)) return false;
  for (const stem of followers) {
    const o = index.occ.get(stem);
    if (o !== undefined && startsAt(o, at)) return true;
  }
  return false;
}

/**
 * A head-first spelling (Pattern.headFirst: "pruning networks" for network pruning) is a fixed
 * phrase, read with at most this many other words inside ("fine-tuning large language models" for
 * language model fine-tuning): further apart, the head and the other words more often belong to
 * two phrases, and a wider reach added no relevant paper on the development topics.
 */
export const HEAD_FIRST_GAP = 1;

/**
 * Whether a head-first window is no fixed phrase: its head is not a noun of action in the paper
 * (NOMINAL: "pruning networks", "generation of code"; not "we answer these questions", "pre-trained
 * language models", "models with rewards"), or a sentence end, punctuation or a coordinator lies
 * inside ("image classification and StableDiffusion for text-to-image" holds no "classification …
 * text").
 */
function headFirstBroken(cues: Uint8Array | undefined, start: number, end: number): boolean {
  if (cues === undefined || (cues[start] & NOMINAL) === 0) return true;
  return cueInside(cues, start, end, SENTENCE_START | PUNCT_BEFORE | LIST_BEFORE);
}

/**
 * Whether a compound window (Pattern.compound: "plasticity loss" for `loss of plasticity`) is no
 * compound: a stop word, punctuation, coordinator or sentence end lies inside ("transformers in
 * training"), or its head should name an operation and the paper writes it as no noun of action
 * ("transformers trained on …" for `training of transformers`).
 */
function compoundBroken(cues: Uint8Array | undefined, start: number, end: number, nominal: boolean): boolean {
  if (cues === undefined) return nominal;
  if (nominal && (cues[end] & NOMINAL) === 0) return true;
  return cueInside(cues, start, end, SENTENCE_START | GAP_BEFORE | LIST_BEFORE);
}

/**
 * Whether a turned window of a linked compound (Pattern.linked: "rates of convergence" for
 * `convergence rates`) is no such phrase: its second word does not follow an "of" (FieldIndex.linked:
 * "growth in model size" is no model growth), or a sentence starts there.
 */
function linkBroken(cues: Uint8Array | undefined, index: FieldIndex | undefined, start: number, end: number): boolean {
  if (index?.linked === undefined || !index.linked.includes(end)) return true;
  return crossesSentence(cues, start, end);
}

/** Whether a flat [start, end, …] occurrence list, sorted by start, has one that starts at `at`. */
function startsAt(occ: number[], at: number): boolean {
  for (let i = 0; i < occ.length && occ[i] <= at; i += 2) if (occ[i] === at) return true;
  return false;
}

/** findWindows as objects, for the callers off the scoring path (explanations, exclusions). */
function phraseWindows(occs: number[][], outOfOrder: number, cues: Uint8Array | undefined, p?: Pattern, index?: FieldIndex): Window[] {
  const count = findWindows(occs, occs.length, outOfOrder, cues, p, index);
  const out: Window[] = [];
  for (let i = 0; i < count; i++) out.push({ start: winStart[i], end: winEnd[i], q: winQ[i], exact: winExact[i] === 1 });
  return out;
}

function sat(x: number): number {
  return (x * SAT_MAX) / (K1 + x);
}

/**
 * df keys are interned to integers once per compiled pattern, so one matching run looks each
 * distinct key up in the statistics once, however many topics share it.
 */
const keyIds = new Map<string, number>();
const keyNames: string[] = [];
function keyId(key: string): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = keyNames.push(key) - 1;
    keyIds.set(key, id);
  }
  return id;
}

/**
 * Per-pattern data: its df key ids (fixed) and the statistics-dependent numbers, recomputed in
 * place, without allocating, for each new scorer (i.e. each matching run).
 */
interface PatternInfo {
  /** Per slot, per spelling: the df key ids of that spelling. */
  slotKeys: number[][][];
  boundaryKeys: number[][];
  /** patternTrigramWindows, with key ids. */
  trigrams: { start: number; end: number; keys: number[] }[];
  owner: object | undefined;
  slotIdf: Float64Array;
  /** How often a paper with this word also has the whole phrase, in the collection. */
  association: Float64Array;
  /** slotIdf × association: the most a slot's words can add, before saturation. */
  bound: Float64Array;
  /** Slot indexes by increasing bound. */
  order: Int32Array;
  phraseIdf: number;
  reference: number;
  /**
   * The sub-phrase of a phrase of three or more stems (see subSpanOf), with its association with
   * the whole phrase (df(phrase) / df(sub-phrase)); undefined until first needed, null for none.
   */
  subSpan: SubSpan | null | undefined;
  /** For a related-forms pattern only: the IDF of each form (see relatedRatio). */
  altIdf: Float64Array | undefined;
  /**
   * For a related-forms pattern only: per form, the papers of the current scorer's batch that hold
   * every stem of it (one bitset after the other; see Scorer.formPapers), and that scorer.
   */
  forms: Uint32Array | undefined;
  formsOwner: object | undefined;
}

interface SubSpan {
  stems: string[];
  /** As typed, for explanations. */
  text: string;
  keys: number[];
  association: number;
}

const infoCache = new WeakMap<Pattern, PatternInfo>();
/** The split a reading of a phrase takes (Scorer.readingHolds), for the scorer that chose it. */
const readings = new WeakMap<Backoff, { owner: object; split: number }>();

/**
 * The sub-phrase of a pattern as typed (each slot's first spelling) without its first stem: the
 * head noun stays, a modifier goes ("efficient fine-tuning" of "parameter-efficient fine-tuning",
 * "language models" of "large language models"; never "test-time" of "test-time adaptation").
 * Built on first need only: most patterns never have their whole phrase in the collection.
 */
function subSpanOf(p: Pattern): SubSpan | null {
  // Only for the query as typed: its vocabulary variants (LLM for large language model, …) are other patterns.
  const stems = p.slots.flatMap((s) => s.alts[0]);
  if (!p.primary || p.slots.length < 2 || stems.length < 3) return null;
  const typed = p.slots.map((s) => s.altText[0]).join(' ');
  const pieces = typed.match(/[^\s-]+[\s-]*/g) ?? [];
  const text = pieces.length === stems.length ? pieces.slice(1).join('').replace(/[\s-]+$/, '') : `part of "${typed}"`;
  return { stems: stems.slice(1), text, keys: altKeys(stems.slice(1)).map(keyId), association: 0 };
}

function infoOf(p: Pattern): PatternInfo {
  let info = infoCache.get(p);
  if (!info) {
    const n = p.slots.length;
    info = {
      slotKeys: p.slots.map((s) => s.alts.map((a) => altKeys(a).map(keyId))),
      boundaryKeys: patternBoundaryKeys(p).map((ks) => ks.map(keyId)),
      trigrams: patternTrigramWindows(p).map((w) => ({ start: w.start, end: w.end, keys: w.keys.map(keyId) })),
      owner: undefined,
      slotIdf: new Float64Array(n),
      association: new Float64Array(n),
      bound: new Float64Array(n),
      order: new Int32Array(n),
      phraseIdf: 0,
      reference: 0,
      subSpan: undefined,
      altIdf: p.weight !== undefined && n === 1 ? new Float64Array(p.slots[0].alts.length) : undefined,
      forms: undefined,
      formsOwner: undefined,
    };
    infoCache.set(p, info);
  }
  return info;
}

/**
 * df of each interned key for the current scorer, shared by all scorers (one run at a time in
 * this thread) and told apart by generation, so a run allocates nothing per key.
 */
let dfCache = new Float64Array(0);
let dfStamp = new Int32Array(0);
let generations = 0;

class Scorer {
  private readonly n: number;
  /** Identifies this scorer's entries in the shared df cache. */
  private readonly generation = ++generations;
  private readonly avgTitle: number;
  private readonly avgAbstract: number;

  constructor(
    private readonly stats: CollectionStats,
    private readonly batch: PaperBatch,
  ) {
    this.n = Math.max(1, stats.docCount);
    this.avgTitle = stats.avgTitleLength;
    this.avgAbstract = stats.avgAbstractLength;
  }

  private df(key: number): number {
    if (key >= dfCache.length) {
      const size = Math.max(keyNames.length, key + 1, 2 * dfCache.length);
      const values = new Float64Array(size);
      const stamps = new Int32Array(size);
      values.set(dfCache);
      stamps.set(dfStamp);
      dfCache = values;
      dfStamp = stamps;
    }
    if (dfStamp[key] === this.generation) return dfCache[key];
    const df = Math.min(this.n, Math.max(0, this.stats.df(keyNames[key]) || 0));
    dfCache[key] = df;
    dfStamp[key] = this.generation;
    return df;
  }

  /**
   * df of a slot: of its most frequent spelling; a multi-stem spelling counts as its rarest bigram or
   * trigram (altKeys). With altIdf: each spelling's IDF there.
   */
  private slotDf(info: PatternInfo, slot: number, altIdf?: Float64Array): number {
    let best = 0;
    const keyLists = info.slotKeys[slot];
    for (let a = 0; a < keyLists.length; a++) {
      let df = Infinity;
      for (const k of keyLists[a]) df = Math.min(df, this.df(k));
      if (df > best) best = df;
      if (altIdf) altIdf[a] = this.idfOfDf(df);
    }
    return best;
  }

  /** The largest df of some keys (0 for none). */
  private maxDf(keys: number[]): number {
    let df = 0;
    for (const k of keys) df = Math.max(df, this.df(k));
    return df;
  }

  /**
   * Papers that may write slots [start, end) of a pattern: the df of the rarest slot and, with
   * pairs, of the rarest trigram window (a phrase is at most as common as any; each adjacent pair
   * has a window, no more common than the pair, see patternTrigramWindows).
   */
  private spanDf(p: Pattern, [start, end]: [number, number], pairs = true): number {
    const info = infoOf(p);
    let df = Infinity;
    for (let i = start; i < end; i++) df = Math.min(df, this.slotDf(info, i));
    return pairs ? this.trigramBound(info, start, end, df) : df;
  }

  /**
   * The df of the rarest adjacent pair of slots in [start, end), each pair in its most frequent
   * spelling (Infinity for one slot).
   */
  private pairsDf(info: PatternInfo, start: number, end: number): number {
    let df = Infinity;
    for (let b = start; b < end - 1; b++) df = Math.min(df, this.maxDf(info.boundaryKeys[b]));
    return df;
  }

  /** `df`, or the df of a rarer trigram window inside slots [start, end). */
  private trigramBound(info: PatternInfo, start: number, end: number, df: number): number {
    for (const w of info.trigrams) if (w.start >= start && w.end <= end) df = Math.min(df, this.maxDf(w.keys));
    return df;
  }

  /**
   * Whether the reading of a phrase as a known term and the rest counts with this collection, and
   * with which split (see Backoff); its parts become the node's positive children. Each part must
   * be evidence: a term or word that more than half the papers write ("learning" for `few-shot
   * learning`) has no positive weight in the Robertson–Spärck Jones relevance weight, and the
   * reading would be the other part alone.
   */
  readingHolds(node: AndNode): boolean {
    const b = node.backoff;
    if (!b) return true;
    let chosen = readings.get(b);
    if (chosen?.owner !== this) readings.set(b, (chosen = { owner: this, split: this.split(b) }));
    if (chosen.split < 0) return false;
    node.positive = b.parts(chosen.split);
    return true;
  }

  /** The split a reading takes with this collection (Scorer.readingHolds), -1 for none. */
  private split(b: Backoff): number {
    for (const p of b.phrase) if (this.spanDf(p, [0, p.slots.length]) > 0) return -1;
    const typed = b.phrase[0];
    // The longest term some paper writes; of two as long, the one more papers write.
    let best = -1;
    let bestDf = 0;
    for (let i = 0; i < b.splits.length; i++) {
      const { term, spelled } = b.splits[i];
      if (best >= 0 && term[1] - term[0] < b.splits[best].term[1] - b.splits[best].term[0]) break;
      const df = spelled ? this.spanDf(spelled, [0, 1]) : this.spanDf(typed, term);
      if (df > bestDf) [best, bestDf] = [i, df];
    }
    if (best < 0) return -1;
    return 2 * bestDf <= this.n && 2 * this.spanDf(typed, b.splits[best].rest, false) <= this.n ? best : -1;
  }

  private idfOfDf(df: number): number {
    return Math.log(1 + (this.n - df + 0.5) / (df + 0.5));
  }

  info(p: Pattern): PatternInfo {
    const info = infoOf(p);
    if (info.owner === this) return info;
    info.owner = this;
    const n = p.slots.length;
    const { slotIdf, association, bound, order } = info;
    // The df of each slot (slotDf); association holds them until they are turned into associations below.
    let minDf = Infinity;
    const altIdf = info.altIdf;
    for (let i = 0; i < n; i++) {
      const best = this.slotDf(info, i, altIdf);
      association[i] = best;
      slotIdf[i] = this.idfOfDf(best);
      if (best < minDf) minDf = best;
    }
    info.phraseIdf = 0;
    if (n >= 2) {
      // A phrase is at most as common as its rarest word and its rarest adjacent pair. (Its idf and
      // its words' associations keep this bound: the trigrams' tighter one lost on the development
      // set, docs/matching.md, thirteenth round.)
      const df = Math.min(minDf, this.pairsDf(info, 0, n));
      info.phraseIdf = this.idfOfDf(df);
      // A sub-phrase ("efficient fine-tuning" of "parameter-efficient fine-tuning") is evidence for
      // the phrase in proportion to how often papers using it use the whole phrase (none when no
      // paper of the collection uses the whole phrase). How often is bounded by the trigrams too:
      // by its pairs alone, "reinforcement learning theory" would be as common as "learning theory".
      const written = this.trigramBound(info, 0, n, df);
      if (written > 0 && info.subSpan === undefined) info.subSpan = subSpanOf(p);
      const span = info.subSpan;
      if (span) {
        let subDf = Infinity;
        for (const k of span.keys) subDf = Math.min(subDf, this.df(k));
        span.association = written > 0 ? Math.min(1, written / Math.max(1, subDf)) : 0;
      }
      // A word alone is evidence for the phrase in proportion to how often, in the collection,
      // papers using the word use the phrase ("diffusion" mostly means diffusion models; "collapse"
      // rarely means neural collapse).
      for (let i = 0; i < n; i++) association[i] = Math.min(1, (df + 0.5) / (association[i] + 0.5));
      // A head-first spelling's words are as good evidence alone as the typed phrase's: how often
      // the collection writes the words head first says nothing of how often a paper using one of
      // them means the phrase ("pre-trained language model" is common, "language model pre-training"
      // less so). So are a compound spelling's ("plasticity loss" for `loss of plasticity`). Both
      // are the typed slots turned: its last slot first, or B's slots before A's.
      const turned = p.headFirst ? { typed: p.headFirst, head: n - 1 } : p.compound;
      if (turned) {
        const typed = this.info(turned.typed);
        const { head } = turned;
        for (let i = 0; i < n; i++) association[i] = typed.association[i < n - head ? head + i : i - (n - head)];
      }
    } else {
      association.fill(1);
    }
    let reference = PHRASE_WEIGHT * info.phraseIdf;
    for (let i = 0; i < n; i++) {
      bound[i] = slotIdf[i] * association[i];
      reference += bound[i];
      // insertion sort of slot indexes by bound (n is tiny)
      let j = i;
      while (j > 0 && bound[order[j - 1]] > bound[i]) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    info.reference = reference;
    return info;
  }

  /** Per form of a related-forms pattern, the papers of the batch that may hold it (see PatternInfo.forms). */
  formPapers(p: Pattern, info: PatternInfo): Uint32Array {
    if (info.formsOwner === this && info.forms) return info.forms;
    const alts = p.slots[0].alts;
    const size = alts.length * this.batch.all.length;
    if (!info.forms || info.forms.length !== size) info.forms = new Uint32Array(size);
    for (let a = 0; a < alts.length; a++) this.batch.stemsInto(alts[a], info.forms, a * this.batch.all.length);
    info.formsOwner = this;
    return info.forms;
  }

  /** Field weight over BM25 length normalisation. */
  fieldWeight(field: FieldName, index: FieldIndex): number {
    if (field === 'author') return 1;
    const title = field === 'title';
    const avg = title ? this.avgTitle : this.avgAbstract;
    const b = title ? TITLE_B : ABSTRACT_B;
    const norm = avg > 0 ? 1 - b + (b * index.length) / avg : 1;
    return (title ? TITLE_WEIGHT : ABSTRACT_WEIGHT) / norm;
  }
}

const ANY_FIELDS: FieldName[] = ['title', 'abstract'];
const TITLE_ONLY: FieldName[] = ['title'];
const ABSTRACT_ONLY: FieldName[] = ['abstract'];
const AUTHOR_ONLY: FieldName[] = ['author'];

function outOfOrderWeight(leaf: LeafNode): number {
  return leaf.field === 'author' ? AUTHOR_OUT_OF_ORDER : 0;
}

function fieldsOf(leaf: LeafNode): FieldName[] {
  switch (leaf.field) {
    case 'any':
      return ANY_FIELDS;
    case 'title':
      return TITLE_ONLY;
    case 'abstract':
      return ABSTRACT_ONLY;
    case 'author':
      return AUTHOR_ONLY;
  }
}

/**
 * Ranking ratio of the pattern last scored by patternRatio (≥ its membership ratio; see there).
 * Set by every call, read by evaluate, so that scoring allocates nothing.
 */
let lastRankRatio = 0;

/**
 * Ratio of a pattern's score to its reference score (see the top of this file). Also leaves in
 * lastRankRatio the ratio the paper is ranked by: the same, except that once the paper names the
 * phrase (a window in a field), each further lone occurrence of one of its words counts as a mention
 * of the phrase with the probability the collection gives (its association): in a paper that says
 * "network pruning", a bare "pruning" is a back-reference to it. Membership does not use it: a
 * back-reference needs the paper to name the topic first, and the window already decides that.
 */
function patternRatio(scorer: Scorer, leaf: LeafNode, p: Pattern, doc: AnalyzedPaper): number {
  const ratio = patternRatioOf(scorer, leaf, p, doc);
  if (lastRankRatio < ratio) lastRankRatio = ratio;
  return ratio;
}

/**
 * Whether the span start..end is a middle item of an enumeration, or the head of one: a comma,
 * "and" or "or" right after it, and one right before it or right before the one word written next
 * to it ("(e.g., network pruning and probing)"; "experiments on supervised fine-tuning, direct
 * preference optimization, and continual learning": preference optimization, as the head of the
 * item "direct preference optimization"; "image classification, image self-supervised learning,
 * machine translation"). One word only: further back, the separator is more often a sentence
 * adverbial's ("However, unlike standard preference optimization, the model …"); a stop word or
 * punctuation before that word ("…, a new preference optimization, and …") makes no item either.
 */
function enumerated(cues: Uint8Array, start: number, end: number): boolean {
  if ((cues[end] & LIST_AFTER) === 0) return false;
  const c = cues[start];
  if (c & LIST_BEFORE) return true;
  return start > 0 && (c & GAP_BEFORE) === 0 && (cues[start - 1] & LIST_BEFORE) !== 0;
}

/**
 * patternRatioOf's per-slot sums and occurrence lists, reused by every call (it is not reentrant):
 * it runs for every multi-word pattern of every candidate paper, hundreds of thousands of times a run.
 */
let slotTf = new Float64Array(8);
let slotLone = new Float64Array(8);
let slotFound = new Uint8Array(8);
const occsScratch: number[][] = [];

function patternRatioOf(scorer: Scorer, leaf: LeafNode, p: Pattern, doc: AnalyzedPaper): number {
  lastRankRatio = 0;
  const fields = fieldsOf(leaf);
  const n = p.slots.length;
  const author = leaf.field === 'author';
  if (n === 1) {
    let tf = 0;
    for (const f of fields) {
      const o = slotOccurrences(p.slots[0], doc[f]);
      if (o.length === 0) continue;
      // A multi-word spelling named as a middle item of a list counts for nothing (see below).
      let count = o.length >> 1;
      const cues = doc[f].cues;
      if (cues !== undefined && !author) for (let i = 0; i < o.length; i += 2) if (o[i + 1] > o[i] && enumerated(cues, o[i], o[i + 1])) count--;
      tf += scorer.fieldWeight(f, doc[f]) * count;
    }
    if (author) return tf > 0 ? 1 : 0;
    return tf > 0 ? sat(tf) : 0;
  }
  const info = scorer.info(p);
  let words = 0;
  let ptf = 0;
  // The part of ptf from windows that are middle items of an enumeration (counted for nothing).
  let listedPtf = 0;
  let exactSeen = false;
  if (slotTf.length < n) {
    slotTf = new Float64Array(n);
    slotLone = new Float64Array(n);
    slotFound = new Uint8Array(n);
  }
  const tf = slotTf.fill(0, 0, n);
  // Field-weighted occurrences of each slot outside the windows counted (for the ranking ratio).
  const lone = slotLone.fill(0, 0, n);
  // How many slots the title holds, and how many the paper holds at all (for split evidence).
  let inTitle = 0;
  const found = slotFound.fill(0, 0, n);
  let foundCount = 0;
  const occs = occsScratch;
  for (const f of fields) {
    const index = doc[f];
    const weight = scorer.fieldWeight(f, index);
    let all = true;
    for (let i = 0; i < n; i++) {
      const o = slotOccurrences(p.slots[i], index);
      occs[i] = o;
      if (o.length) {
        tf[i] += weight * (o.length >> 1);
        if (f === 'title') inTitle++;
        if (found[i] === 0) foundCount++;
        found[i] = 1;
      } else all = false;
    }
    if (!all) {
      for (let i = 0; i < n; i++) lone[i] += weight * (occs[i].length >> 1);
      continue;
    }
    let q = 0;
    let listed = 0;
    let used = 0;
    const cues = index.cues;
    const windows = findWindows(occs, n, outOfOrderWeight(leaf), cues, p, index);
    for (let k = 0; k < windows; k++) {
      const wq = winQ[k];
      if (winExact[k] === 1) exactSeen = true;
      if (author ? wq >= 0.5 : !leaf.exact || winExact[k] === 1) {
        q += wq;
        if (cues !== undefined && enumerated(cues, winStart[k], winEnd[k])) listed += wq;
        used++;
      }
    }
    for (let i = 0; i < n; i++) lone[i] += weight * Math.max(0, (occs[i].length >> 1) - used);
    ptf += weight * q;
    listedPtf += weight * listed;
  }
  if (author) return ptf > 0 ? 1 : 0;
  if (leaf.exact && !exactSeen) return 0;
  for (let i = 0; i < n; i++) if (tf[i] > 0) words += info.slotIdf[i] * info.association[i] * sat(tf[i]);
  // A phrase named only as a middle item of a list is named in passing: those windows count for
  // nothing (their words still count as words) and are no antecedent for back-references.
  const namedPtf = ptf - listedPtf;
  let phrase = namedPtf > 0 ? sat(namedPtf) : 0;
  if (ptf === 0 && !leaf.exact) {
    // Split evidence: every word of the phrase in the paper, some in the title and the rest in the
    // abstract only. Title and abstract state the same subject, so this counts as the loosest
    // window that still counts (MAX_GAP words between), in the abstract.
    if (fields === ANY_FIELDS && inTitle > 0 && inTitle < n && foundCount === n) {
      phrase = sat(scorer.fieldWeight('abstract', doc.abstract) / (1 + MAX_GAP));
    }
    if (info.subSpan && info.subSpan.association > 0) phrase = Math.max(phrase, subPhraseEvidence(scorer, info.subSpan, fields, doc));
  }
  if (info.reference <= 0) return 0;
  const score = words + PHRASE_WEIGHT * info.phraseIdf * phrase;
  // Ranking: lone words after the paper has named the phrase are back-references to it (see patternRatio).
  let elided = 0;
  if (namedPtf > 0 && !leaf.exact) for (let i = 0; i < n; i++) elided = Math.max(elided, info.association[i] * lone[i]);
  lastRankRatio = elided > 0 ? (words + PHRASE_WEIGHT * info.phraseIdf * sat(namedPtf + elided)) / info.reference : score / info.reference;
  return score / info.reference;
}

/**
 * Ratio of a related-forms pattern (concept family: one slot, one spelling per form). Each
 * occurrence counts in proportion to how specific its form is next to the query text itself:
 * idf(form) / idf(query), at most 1. A form as rare as the query is as good a sign of the area as
 * the query's own words; a form whose stem is common ("retriever" stems to retriev-, as in
 * "retrieval"; "discriminator" to discrimin-, as in "discriminative"; "multimodal"; "language
 * model" for natural language processing) says less about the area than its name suggests.
 * A multi-word form is a fixed term: an occurrence across punctuation, or across a stop word where
 * the form has none, is not the form ("class of meaning-preserving" is no "class means").
 */
function relatedRatio(scorer: Scorer, leaf: LeafNode, p: Pattern, doc: AnalyzedPaper, paper: number): number {
  const typed = scorer.info(leaf.patterns[0]);
  const own = typed.phraseIdf > 0 ? typed.phraseIdf : typed.slotIdf[0];
  const info = scorer.info(p);
  const altIdf = info.altIdf;
  const alts = p.slots[0].alts;
  // A family has a dozen forms or more and a paper rarely names any: the batch's bitsets say which
  // forms the paper holds every stem of, so that only those are looked for.
  const forms = scorer.formPapers(p, info);
  const stride = forms.length / alts.length;
  const word = paper >>> 5;
  const bit = 1 << (paper & 31);
  // Every occurrence (see foundScratch); where forms overlap at one start, the most specific counts.
  const found = foundScratch;
  const gaps = formGaps(p);
  const independent = p.independent;
  let tf = 0;
  let tfIndependent = 0;
  let inTitle = false;
  // The form the explanation names: the first one counted, in the first field that counts one
  // (and the first independent one, for a paper that passes on the query's words and it together).
  let shown = -1;
  let shownAt = Infinity;
  let shownIndependent = -1;
  let shownIndependentAt = Infinity;
  for (const f of fieldsOf(leaf)) {
    const index = doc[f];
    let count = 0;
    const cues = index.cues;
    for (let a = 0; a < alts.length; a++) {
      if ((forms[a * stride + word] & bit) === 0) continue;
      const o = altOccurrences(alts[a], index);
      if (o.length === 0) continue;
      const specific = altIdf && own > 0 ? altIdf[a] / own : 1;
      // Another name of the area counts in full when it is at least as specific as the query, and
      // not at all when it is more common: then it names more than the query does.
      const w = p.names?.[a] === 1 ? (specific >= 1 ? 1 : 0) : Math.min(1, specific);
      if (w === 0) continue;
      for (let i = 0; i < o.length; i += 2) {
        // A form written as adjacent words is a fixed term: it does not span a stop word or
        // punctuation ("class of meaning-preserving" is no "class means").
        if (cues !== undefined && o[i + 1] > o[i] && foreignGap(cues, o[i], o[i + 1], gaps[2 * a], gaps[2 * a + 1])) continue;
        const isIndependent = independent?.[a] === 1;
        if (shownAt !== -1 && o[i] < shownAt) {
          shown = a;
          shownAt = o[i];
        }
        if (isIndependent && shownIndependentAt !== -1 && o[i] < shownIndependentAt) {
          shownIndependent = a;
          shownIndependentAt = o[i];
        }
        found[count++] = o[i];
        found[count++] = o[i + 1];
        // Another name of the area is the query in other words: like the query's own words, it is
        // not read as named in passing (see PASSING_WEIGHT).
        const weight = cues !== undefined && p.names?.[a] !== 1 && inPassing(cues, o[i], o[i + 1]) ? w * PASSING_WEIGHT : w;
        found[count++] = weight;
        found[count++] = isIndependent ? weight : 0;
      }
    }
    if (count === 0) continue;
    // A field with a counted form fixes the one shown (later fields are not searched for it).
    shownAt = -1;
    if (shownIndependent >= 0) shownIndependentAt = -1;
    let weighted = 0;
    let weightedIndependent = 0;
    if (count === FOUND_STRIDE) {
      weighted = found[2];
      weightedIndependent = found[3];
    } else {
      // Each start once, in order of first occurrence, with the most specific form there. A form
      // in parentheses right after another ("reinforcement learning from human feedback (RLHF)",
      // "RLHF (reinforcement learning from human feedback)") defines it: one mention, not two.
      for (let i = 0; i < count; i += FOUND_STRIDE) {
        let repeat = false;
        for (let j = 0; j < i && !repeat; j += FOUND_STRIDE) repeat = found[j] === found[i];
        if (repeat || (cues !== undefined && definesAnother(cues, found, count, found[i]))) continue;
        let best = 0;
        let bestIndependent = 0;
        for (let j = i; j < count; j += FOUND_STRIDE) {
          if (found[j] !== found[i]) continue;
          best = Math.max(best, found[j + 2]);
          bestIndependent = Math.max(bestIndependent, found[j + 3]);
        }
        weighted += best;
        weightedIndependent += bestIndependent;
      }
    }
    const fieldWeight = scorer.fieldWeight(f, index);
    tf += fieldWeight * weighted;
    tfIndependent += fieldWeight * weightedIndependent;
    if (f === 'title' && weighted > 0) inTitle = true;
  }
  shownForm.set(p, shown);
  independentForm.set(p, shownIndependent);
  relatedInTitle = inTitle;
  lastIndependentRatio = tfIndependent > 0 ? sat(tfIndependent) : 0;
  return tf > 0 ? sat(tf) : 0;
}

/**
 * Per related-forms pattern, the form relatedRatio last counted first (-1: none): the one its
 * explanation names. Read right after the paper's evaluation, as `winners` is.
 */
const shownForm = new Map<Pattern, number>();
/** The same for the first form relatedRatio counted that shares no stem with the query (Pattern.independent). */
const independentForm = new Map<Pattern, number>();

/** Whether relatedRatio's last call counted a form in the title (read right after it, by evaluate). */
let relatedInTitle = false;

/** What relatedRatio's last call gave from the forms that share no stem with the query alone (see combinedRatio). */
let lastIndependentRatio = 0;

/**
 * relatedRatio's occurrences of one field ([start, end, weight, weight if the form shares no stem
 * with the query else 0] each), reused by every call.
 */
const foundScratch: number[] = [];
const FOUND_STRIDE = 4;

/**
 * Whether the occurrence starting at `start` opens a parenthesis right after another occurrence
 * ends: the two name one thing, the second defining the first (positions count words only, so the
 * parenthesis itself takes none).
 */
function definesAnother(cues: Uint8Array, found: number[], count: number, start: number): boolean {
  if (start === 0 || (cues[start] & PARENTHESIZED) === 0 || (cues[start - 1] & PARENTHESIZED) !== 0) return false;
  for (let j = 0; j < count; j += FOUND_STRIDE) if (found[j + 1] === start - 1) return true;
  return false;
}

/**
 * Whether the occurrence start..end is named in passing (see PASSING_WEIGHT): in the abstract's
 * opening, or inside parentheses with other words (a parenthesized word right before or after it).
 */
function inPassing(cues: Uint8Array, start: number, end: number): boolean {
  const c = cues[start];
  if (c & BACKGROUND) return true;
  return (c & PARENTHESIZED) !== 0 && ((start > 0 && (cues[start - 1] & PARENTHESIZED) !== 0) || (cues[end + 1] & PARENTHESIZED) !== 0);
}

/**
 * Whether punctuation separates two of the positions start..end, or a stop word where the form
 * itself has none (`stops`: bit k set when the form has a stop word before its k-th word, as
 * "text-to-image" before "image"), or "and" / "or" where the form has none (`coordinators`, the
 * form's own LIST_BEFORE positions): a coordinator joins two phrases, it is no part of a term
 * ("transfer learning and demonstrate" is no "learning from demonstrations"; "generator and
 * discriminator" writes its own).
 */
function foreignGap(cues: Uint8Array, start: number, end: number, stops: number, coordinators: number): boolean {
  for (let i = start + 1; i <= end; i++) {
    const c = cues[i];
    if (c & PUNCT_BEFORE) return true;
    const bit = i - start < FORM_BITS ? 1 << (i - start) : 0;
    if (c & GAP_BEFORE && !(stops & bit)) return true;
    if (c & LIST_BEFORE && !(coordinators & bit)) return true;
  }
  return false;
}

/** formGaps' bits cover a form's first 31 word positions (one Int32Array cell, sign bit unused). */
const FORM_BITS = 31;

const gapCache = new WeakMap<Pattern, Int32Array>();
/**
 * Per spelling a of a related-forms pattern, read by the analysis papers get: at 2a, where its own
 * text has a stop word (bit k: before its k-th word); at 2a + 1, where it has "and" or "or" (the
 * LIST_BEFORE cues of its text).
 */
function formGaps(p: Pattern): Int32Array {
  let gaps = gapCache.get(p);
  if (gaps) return gaps;
  const texts = p.slots[0].altText;
  gaps = new Int32Array(2 * texts.length);
  for (let a = 0; a < texts.length; a++) {
    let stops = 0;
    let coordinators = 0;
    scanTokens(
      texts[a],
      0,
      () => undefined,
      (k, flags) => (coordinators |= flags & LIST_BEFORE && k < FORM_BITS ? 1 << k : 0),
      (k, punctuation) => (stops |= !punctuation && k < FORM_BITS ? 1 << k : 0),
    );
    gaps[2 * a] = stops;
    gaps[2 * a + 1] = coordinators;
  }
  gapCache.set(p, gaps);
  return gaps;
}

/** The sub-phrase's saturated, field-weighted phrase frequency times its association with the whole phrase. */
function subPhraseEvidence(scorer: Scorer, span: SubSpan, fields: FieldName[], doc: AnalyzedPaper): number {
  let ptf = 0;
  for (const f of fields) {
    const o = altOccurrences(span.stems, doc[f]);
    if (o.length) ptf += scorer.fieldWeight(f, doc[f]) * (o.length >> 1);
  }
  return ptf > 0 ? span.association * sat(ptf) : 0;
}

function quote(s: string): string {
  return `"${s}"`;
}

/** Human text for why a pattern matched a paper, e.g. 'phrase "diffusion models" in title'. */
function explainPattern(leaf: LeafNode, p: Pattern, doc: AnalyzedPaper, form?: number): string {
  const fields = fieldsOf(leaf);
  if (leaf.field === 'author') return `"${leaf.text}" among the authors`;
  if (p.slots.length === 1) {
    const slot = p.slots[0];
    // A related-forms pattern names the form that counted (a more common name of the area, which
    // does not count, is never shown), and the fields that hold it.
    const shown = p.weight !== undefined ? (form ?? shownForm.get(p) ?? -1) : -1;
    let where = '';
    let alt = shown;
    for (const f of fields) {
      if ((shown >= 0 ? altOccurrences(slot.alts[shown], doc[f]) : slotOccurrences(slot, doc[f])).length === 0) continue;
      where = where ? `${where} and ${f}` : f;
      if (alt < 0) alt = slot.alts.length === 1 ? 0 : matchedAlt(slot, doc[f]);
    }
    return where ? `"${slot.altText[Math.max(0, alt)]}" in ${where}` : '';
  }
  const n = p.slots.length;
  const slotFields: FieldName[][] = p.slots.map(() => []);
  const alt: number[] = new Array(n).fill(-1);
  const exactFields: FieldName[] = [];
  const linkedFields: FieldName[] = [];
  const nearFields: FieldName[] = [];
  for (const f of fields) {
    const occs = p.slots.map((s) => slotOccurrences(s, doc[f]));
    occs.forEach((o, i) => {
      if (!o.length) return;
      slotFields[i].push(f);
      if (alt[i] < 0) alt[i] = matchedAlt(p.slots[i], doc[f]);
    });
    if (n >= 2 && occs.every((o) => o.length)) {
      const ws = phraseWindows(occs, outOfOrderWeight(leaf), doc[f].cues, p, doc[f]);
      const exact = ws.filter((w) => w.exact);
      if (exact.length) exactFields.push(f);
      else if (ws.length && !leaf.exact) nearFields.push(f);
      // Only turned ("rates of convergence"): no exact window starts at the typed first word.
      if (p.linked && exact.length && exact.every((w) => !startsAt(occs[0], w.start))) linkedFields.push(f);
    }
  }
  const text = (i: number) => p.slots[i].altText[Math.max(0, alt[i])];
  const where = (fs: FieldName[]) => fs.join(' and ');
  const whole = p.slots.map((_, i) => text(i)).join(' ');
  if (n === 1) return slotFields[0].length ? `${quote(whole)} in ${where(slotFields[0])}` : '';
  if (exactFields.length) {
    // A head-first spelling names the phrase as the reader typed it ("data selection" for "selecting data").
    if (p.headFirst) return `phrase ${quote([...p.slots.slice(1).map((_, i) => text(i + 1)), text(0)].join(' '))} written head first in ${where(exactFields)}`;
    // A linked compound found turned names the "of" ("rates of convergence").
    if (p.linked && linkedFields.length === exactFields.length) return `phrase ${quote(`${text(1)} of ${text(0)}`)} in ${where(exactFields)}`;
    return `phrase ${quote(whole)} in ${where(exactFields)}`;
  }
  if (nearFields.length) return `${p.slots.map((_, i) => quote(text(i))).join(', ')} close together in ${where(nearFields)}`;
  const span = infoOf(p).subSpan;
  if (!leaf.exact && span && span.association > 0) {
    const spanFields = fields.filter((f) => altOccurrences(span.stems, doc[f]).length > 0);
    if (spanFields.length) return `phrase ${span.text.startsWith('part of') ? span.text : quote(span.text)} in ${where(spanFields)}`;
  }
  return p.slots
    .map((_, i) => (slotFields[i].length ? `${quote(text(i))} in ${where(slotFields[i])}` : ''))
    .filter(Boolean)
    .join('; ');
}

/** Boolean presence, for exclusions: the text occurs as typed (adjacent, in order) or as a vocabulary variant. */
function present(node: CompiledNode, doc: AnalyzedPaper): boolean {
  if (node.kind === 'or') return node.children.some((c) => present(c, doc));
  if (node.kind === 'and') return node.positive.length > 0 && node.positive.every((c) => present(c, doc));
  for (const p of node.patterns) {
    // Soft (concept-family) evidence never excludes: -pruning does not exclude every sparse paper.
    if (p.weight !== undefined) continue;
    for (const f of fieldsOf(node)) {
      const occs = p.slots.map((s) => slotOccurrences(s, doc[f]));
      if (occs.some((o) => o.length === 0)) continue;
      if (p.slots.length === 1) return true;
      if (phraseWindows(occs, outOfOrderWeight(node), doc[f].cues, p, doc[f]).some((w) => (node.field === 'author' ? w.q >= 0.5 : w.exact))) return true;
    }
  }
  return false;
}

/**
 * Scratch of evaluations: the pattern that won each leaf and the child that won each OR group,
 * so that the explanation of a passing paper needs no second scoring pass. Evaluating a node
 * always sets its entry; a passing node's explanation reads only nodes that its evaluation
 * evaluated (all positive children of an AND, all children of an OR), so entries left from
 * another paper are never read for a passing one (only a paper judged by a lower bar, as in
 * feedback admission, needs the scratch cleared first).
 */
const winners = new Map<CompiledNode, Pattern | CompiledNode>();
/** The leaves that passed on combined evidence (combinedRatio): the related-forms pattern beside the winner. */
const partners = new Map<CompiledNode, Pattern | undefined>();
/** Score of the node last evaluated (returned beside the ratio without allocating). */
let lastScore = 0;

/** Evaluates a node for one paper (the batch's paper-th): returns the membership ratio and leaves the score in lastScore. */
function evaluate(scorer: Scorer, node: CompiledNode, doc: AnalyzedPaper, paper: number): number {
  switch (node.kind) {
    case 'leaf': {
      let best = 0;
      let rank = 0;
      let bestPattern = node.patterns[0];
      // The best of the query's own spellings, and the best related evidence that shares no stem with them.
      let own = 0;
      let ownPattern = node.patterns[0];
      let independent = 0;
      let independentPattern: Pattern | undefined;
      for (const p of node.patterns) {
        let r: number;
        if (p.weight === undefined) {
          r = patternRatio(scorer, node, p, doc);
          if (lastRankRatio > rank) rank = lastRankRatio;
          if (r > own) {
            own = r;
            ownPattern = p;
          }
        } else {
          r = relatedRatio(scorer, node, p, doc, paper) * p.weight;
          // Ranking: a method of the area named in the title counts more (RELATED_TITLE_RANK).
          const ranked = relatedInTitle ? r * RELATED_TITLE_RANK : r;
          if (ranked > rank) rank = ranked;
          const alone = lastIndependentRatio * p.weight;
          if (alone > independent) {
            independent = alone;
            independentPattern = p;
          }
        }
        if (r > best) {
          best = r;
          bestPattern = p;
        }
      }
      const combined = independentPattern ? combinedRatio(own, independent) : 0;
      if (combined > best) {
        best = combined;
        bestPattern = ownPattern;
        partners.set(node, independentPattern);
      } else if (partners.size !== 0) partners.delete(node);
      winners.set(node, bestPattern);
      lastScore = rank * (node.field === 'author' ? 1 : scorer.info(node.patterns[0]).reference);
      return best;
    }
    case 'or': {
      let bestRatio = 0;
      let bestScore = 0;
      let bestChild: CompiledNode = node.children[0];
      for (const c of node.children) {
        // A reading of the phrase (see Backoff) is for papers that the phrase itself does not pass.
        if (c.kind === 'and' && c.backoff && bestRatio >= MEMBERSHIP) continue;
        const r = evaluate(scorer, c, doc, paper);
        const better = r >= MEMBERSHIP ? bestRatio < MEMBERSHIP || lastScore > bestScore : bestRatio < MEMBERSHIP && r > bestRatio;
        if (better) {
          bestRatio = r;
          bestScore = lastScore;
          bestChild = c;
        }
      }
      winners.set(node, bestChild);
      lastScore = bestScore;
      return bestRatio;
    }
    case 'and': {
      lastScore = 0;
      if (!scorer.readingHolds(node)) return 0;
      for (const c of node.negative) if (present(c, doc)) return 0;
      if (node.positive.length === 0) return Infinity;
      let ratio = Infinity;
      let score = 0;
      for (const c of node.positive) {
        const r = evaluate(scorer, c, doc, paper);
        if (r < MEMBERSHIP) {
          lastScore = 0;
          return r;
        }
        ratio = Math.min(ratio, r);
        score += lastScore;
      }
      lastScore = score;
      return ratio;
    }
  }
}

/** Adds the explanation of one pattern of a leaf (with `form`: that related form). */
function explainLeaf(node: LeafNode, p: Pattern, doc: AnalyzedPaper, out: string[], form?: number): void {
  const w = explainPattern(node, p, doc, form);
  if (!w) return;
  const text = p.standsFor ? `${w} (related to "${p.standsFor}")` : w;
  // Two terms can rest on one word ("RLHF" for both "reinforcement learning" and "human feedback").
  if (!out.includes(text)) out.push(text);
}

/** Explanations of the concepts that carried a passing paper (after evaluate). */
function explain(node: CompiledNode, doc: AnalyzedPaper, out: string[]): void {
  switch (node.kind) {
    case 'leaf': {
      explainLeaf(node, (winners.get(node) as Pattern | undefined) ?? node.patterns[0], doc, out);
      const partner = partners.get(node);
      if (partner) explainLeaf(node, partner, doc, out, independentForm.get(partner));
      return;
    }
    case 'or': {
      const child = winners.get(node) as CompiledNode | undefined;
      if (child) explain(child, doc, out);
      return;
    }
    case 'and':
      for (const c of node.positive) explain(c, doc, out);
  }
}

interface Postings {
  docs: number[];
  title: number[];
  abstract: number[];
}

/** The papers of one batch, analysed once, with a stem → papers bitset index to find candidates. */
export class PaperBatch {
  readonly docs: AnalyzedPaper[];
  private readonly words: number;
  private readonly bits = new Map<string, Uint32Array>();
  private readonly authorBits = new Map<string, Uint32Array>();
  private readonly slotBitsCache = new WeakMap<Slot, Uint32Array>();
  private readonly authorSlotBits = new WeakMap<Slot, Uint32Array>();
  readonly all: Uint32Array;
  readonly none: Uint32Array;
  private readonly pool: Uint32Array[] = [];
  /** stem → papers holding it, with its number of occurrences in title and abstract. */
  private readonly postingLists = new Map<string, Postings>();

  constructor(papers: EnginePaper[]) {
    this.docs = papers.map(analyzePaper);
    this.words = Math.ceil(papers.length / 32) || 1;
    this.none = new Uint32Array(this.words);
    this.all = new Uint32Array(this.words);
    this.slotScratch = new Uint32Array(this.words);
    this.docs.forEach((d, i) => {
      this.all[i >>> 5] |= 1 << (i & 31);
      for (const [stem, occ] of d.title.occ) {
        this.set(this.bits, stem, i);
        const p = this.postingLists.get(stem);
        if (p) {
          p.docs.push(i);
          p.title.push(occ.length >> 1);
          p.abstract.push(0);
        } else {
          this.postingLists.set(stem, { docs: [i], title: [occ.length >> 1], abstract: [0] });
        }
      }
      for (const [stem, occ] of d.abstract.occ) {
        this.set(this.bits, stem, i);
        const p = this.postingLists.get(stem);
        if (!p) {
          this.postingLists.set(stem, { docs: [i], title: [0], abstract: [occ.length >> 1] });
        } else if (p.docs[p.docs.length - 1] === i) {
          p.abstract[p.abstract.length - 1] = occ.length >> 1;
        } else {
          p.docs.push(i);
          p.title.push(0);
          p.abstract.push(occ.length >> 1);
        }
      }
      for (const stem of d.author.occ.keys()) this.set(this.authorBits, stem, i);
    });
  }

  private ids: Map<string, number> | undefined;

  /**
   * The feedback vectors of these papers under `stats`, built once per statistics object: matching
   * topics in several batches against one digest (the job) reuses them when it passes the same
   * `paperStats` (see MatchOptions). A statistics object that has grown since (an InMemoryStats
   * given more papers: its document count changed) gets new vectors.
   */
  feedbackIndex(stats: CollectionStats): FeedbackIndex {
    const kept = this.feedbackIndexes.get(stats);
    if (kept && kept.docCount === stats.docCount) return kept.index;
    const index = new FeedbackIndex(this.docs, stats);
    this.feedbackIndexes.set(stats, { index, docCount: stats.docCount });
    return index;
  }

  private readonly feedbackIndexes = new WeakMap<CollectionStats, { index: FeedbackIndex; docCount: number }>();

  /** Index of a paper in the batch (the first with that id). */
  indexOf(id: string): number {
    if (!this.ids) {
      this.ids = new Map();
      this.docs.forEach((d, i) => {
        if (!this.ids!.has(d.id)) this.ids!.set(d.id, i);
      });
    }
    return this.ids.get(id) ?? -1;
  }

  postings(stem: string): Postings | undefined {
    return this.postingLists.get(stem);
  }

  /** A reusable bitset for temporaries at a nesting depth (-1: the result of a whole topic). */
  scratch(depth: number): Uint32Array {
    const i = depth + 1;
    while (this.pool.length <= i) this.pool.push(new Uint32Array(this.words));
    return this.pool[i];
  }

  private set(map: Map<string, Uint32Array>, stem: string, i: number): void {
    let b = map.get(stem);
    if (!b) map.set(stem, (b = new Uint32Array(this.words)));
    b[i >>> 5] |= 1 << (i & 31);
  }

  private readonly stemsBitsCache = new Map<string, Uint32Array>();

  /**
   * Writes at out[offset ..] the papers holding every one of the stems in `map` (positions not
   * checked); false, with those words left as they are, when a stem is in no paper or there is none.
   */
  private intersect(map: Map<string, Uint32Array>, stems: string[], out: Uint32Array, offset: number): boolean {
    if (stems.length === 0) return false;
    const words = this.words;
    for (let k = 0; k < stems.length; k++) {
      const b = map.get(stems[k]);
      if (!b) return false;
      if (k === 0) out.set(b, offset);
      else for (let w = 0; w < words; w++) out[offset + w] &= b[w];
    }
    return true;
  }

  /** Writes at out[offset ..] the papers holding every one of the stems in title or abstract (positions not checked). */
  stemsInto(stems: string[], out: Uint32Array, offset: number): void {
    if (!this.intersect(this.bits, stems, out, offset)) out.fill(0, offset, offset + this.words);
  }

  /** Papers holding every one of the stems (positions not checked). */
  stemsBits(stems: string[]): Uint32Array {
    const key = stems.join(' ');
    const cached = this.stemsBitsCache.get(key);
    if (cached) return cached;
    const acc = new Uint32Array(this.words);
    const out = this.intersect(this.bits, stems, acc, 0) ? acc : this.none;
    this.stemsBitsCache.set(key, out);
    return out;
  }

  private readonly slotScratch: Uint32Array;

  /** Papers that may contain the slot (every stem of some spelling present, positions not checked). */
  slotBits(slot: Slot, author: boolean): Uint32Array {
    const map = author ? this.authorBits : this.bits;
    if (slot.alts.length === 1 && slot.alts[0].length === 1) return map.get(slot.alts[0][0]) ?? this.none;
    const cache = author ? this.authorSlotBits : this.slotBitsCache;
    const cached = cache.get(slot);
    if (cached) return cached;
    const out = new Uint32Array(this.words);
    // A spelling's papers are gathered in a scratch bitset (not a copy per spelling): a run asks
    // this for tens of thousands of slots.
    const acc = this.slotScratch;
    for (const alt of slot.alts) {
      if (this.intersect(map, alt, acc, 0)) for (let w = 0; w < this.words; w++) out[w] |= acc[w];
    }
    cache.set(slot, out);
    return out;
  }
}

/**
 * Writes into `out` the papers that can possibly pass a node. Within a pattern, a slot is
 * required when the other slots, even saturated, could not reach MEMBERSHIP without it; otherwise
 * the paper must hold at least one "essential" slot: the low-bound slots left out could not reach
 * it on their own (the usual MaxScore bound), and without every slot there is no phrase evidence.
 * Temporaries come from a per-depth pool, so finding candidates allocates nothing.
 */
function candidates(scorer: Scorer, batch: PaperBatch, node: CompiledNode, out: Uint32Array, depth = 0): void {
  const words = out.length;
  if (node.kind === 'or' || node.kind === 'and') {
    const isAnd = node.kind === 'and';
    if (isAnd && !scorer.readingHolds(node)) {
      out.set(batch.none);
      return;
    }
    const children = isAnd ? node.positive : node.children;
    if (children.length === 0) {
      out.set(isAnd ? batch.all : batch.none);
      return;
    }
    const tmp = batch.scratch(depth);
    out.set(isAnd ? batch.all : batch.none);
    for (const c of children) {
      candidates(scorer, batch, c, tmp, depth + 1);
      if (isAnd) for (let w = 0; w < words; w++) out[w] &= tmp[w];
      else for (let w = 0; w < words; w++) out[w] |= tmp[w];
    }
    return;
  }
  const author = node.field === 'author';
  out.fill(0);
  const acc = batch.scratch(depth);
  for (const p of node.patterns) {
    acc.set(batch.all);
    if (author || node.exact || p.slots.length === 1) {
      for (const s of p.slots) {
        const b = batch.slotBits(s, author);
        for (let w = 0; w < words; w++) acc[w] &= b[w];
      }
      for (let w = 0; w < words; w++) out[w] |= acc[w];
      continue;
    }
    const info = scorer.info(p);
    const n = p.slots.length;
    const need = MEMBERSHIP * info.reference;
    let total = 0;
    for (let i = 0; i < n; i++) total += info.bound[i];
    let required = 0;
    for (let i = 0; i < n; i++) {
      if (SAT_MAX * (total - info.bound[i]) < need) {
        required++;
        const b = batch.slotBits(p.slots[i], false);
        for (let w = 0; w < words; w++) acc[w] &= b[w];
      }
    }
    if (required === 0) {
      const some = batch.scratch(depth + 1);
      some.fill(0);
      // Slots by increasing bound; with every slot present the phrase part counts too, so at least
      // one slot stays essential.
      const order = info.order;
      let cum = 0;
      let k = 0;
      while (k < n - 1 && SAT_MAX * (cum + info.bound[order[k]]) < need) {
        cum += info.bound[order[k]];
        k++;
      }
      for (let i = k; i < n; i++) {
        const b = batch.slotBits(p.slots[order[i]], false);
        for (let w = 0; w < words; w++) some[w] |= b[w];
      }
      for (let w = 0; w < words; w++) acc[w] &= some[w];
    }
    // Without the slots above, only the sub-phrase can reach the threshold: add the papers holding it.
    const span = info.subSpan;
    if (span && span.association > 0 && SAT_MAX * (total + PHRASE_WEIGHT * info.phraseIdf * span.association) >= need) {
      const b = batch.stemsBits(span.stems);
      for (let w = 0; w < words; w++) acc[w] |= b[w];
    }
    for (let w = 0; w < words; w++) out[w] |= acc[w];
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * Scores a batch of papers against compiled topics with the given collection statistics.
 * Returns topic id → passing papers, best first (ties by paper id); topics without a match are absent.
 */
export function matchPapers(
  topics: CompiledTopic[],
  papers: EnginePaper[] | PaperBatch,
  stats: CollectionStats,
  options: MatchOptions = {},
): Map<string, TopicMatch[]> {
  const batch = papers instanceof PaperBatch ? papers : new PaperBatch(papers);
  return matchBatch(topics, batch, stats, options);
}

export interface MatchOptions {
  /** Score every paper instead of only the candidates from the index (for benchmarks and checks). */
  exhaustive?: boolean;
  /**
   * Rank with pseudo-relevance feedback from each topic's confident matches (default false: some
   * 0.1 s of CPU more per run at 40,000 topics, not reliably within the 1 s budget; the job and the
   * CLI turn it on with MATCH_FEEDBACK=true). See docs/matching.md.
   */
  feedback?: boolean;
  /**
   * With feedback, also send papers with half the threshold of query evidence that are as similar
   * to the confident matches as these are to each other (default false: see docs/matching.md).
   */
  feedbackAdmission?: boolean;
  /**
   * With feedback: the statistics the papers' term vectors are weighted with, when `stats` is not
   * the object to key them by. The job scores a digest's topics in batches, each with statistics
   * of its own topic terms over one snapshot of the papers' terms (`paperStats`), so the vectors
   * are built once per digest. Its df must agree with `stats` on every term of the papers.
   */
  paperStats?: CollectionStats;
}

export function matchBatch(
  topics: CompiledTopic[],
  batch: PaperBatch,
  stats: CollectionStats,
  options: MatchOptions = {},
): Map<string, TopicMatch[]> {
  const scorer = new Scorer(stats, batch);
  const feedback = options.feedback === true ? batch.feedbackIndex(options.paperStats ?? stats) : undefined;
  const out = new Map<string, TopicMatch[]>();
  for (const topic of topics) {
    const term = options.exhaustive ? undefined : singleTerm(topic.root);
    if (term) {
      const found = matchSingleTerm(scorer, batch, term);
      if (feedback) addFeedback(scorer, feedback, batch, topic, found, options.feedbackAdmission === true);
      if (found.length) out.set(topic.id, sortMatches(found));
      continue;
    }
    let cand = batch.all;
    if (!options.exhaustive) {
      cand = batch.scratch(-1);
      candidates(scorer, batch, topic.root, cand);
    }
    const found: TopicMatch[] = [];
    // Cleared once per topic, not per paper (each clear makes a new table): a paper that passes
    // has had every node its explanation reads evaluated, so an entry left from an earlier paper
    // of the topic is overwritten before it could be read.
    winners.clear();
    partners.clear();
    for (let w = 0; w < cand.length; w++) {
      let bits = cand[w];
      while (bits) {
        const low = bits & -bits;
        const i = (w << 5) + (31 - Math.clz32(low));
        bits ^= low;
        const doc = batch.docs[i];
        const ratio = evaluate(scorer, topic.root, doc, i);
        if (ratio >= MEMBERSHIP && lastScore > 0) {
          const why: string[] = [];
          explain(topic.root, doc, why);
          found.push({ paperId: doc.id, score: round(lastScore), why: why.join('; ') });
        }
      }
    }
    if (feedback) addFeedback(scorer, feedback, batch, topic, found, options.feedbackAdmission === true);
    if (found.length) out.set(topic.id, sortMatches(found));
  }
  return out;
}

/** Plain-word topics only: quotes and field prefixes ask for literal matches. */
function feedbackAllowed(node: CompiledNode): boolean {
  if (node.kind === 'leaf') return node.field === 'any' && !node.exact;
  if (node.kind === 'or') return node.children.every(feedbackAllowed);
  // A reading of a phrase (see Backoff) is as plain as the phrase, its sibling.
  if (node.backoff) return true;
  return node.positive.length > 0 && node.positive.every(feedbackAllowed);
}

/** Every stem of every spelling of the query's positive words (a reading of a phrase, see Backoff, has the phrase's). */
function queryStems(node: CompiledNode, out = new Set<string>()): Set<string> {
  if (node.kind === 'leaf') {
    for (const p of node.patterns) for (const s of p.slots) for (const a of s.alts) for (const stem of a) out.add(stem);
  } else if (node.kind === 'or') node.children.forEach((c) => queryStems(c, out));
  else if (!node.backoff) node.positive.forEach((c) => queryStems(c, out));
  return out;
}

/**
 * queryStems of a compiled topic, made once per topic (they depend on the query only, not on the
 * statistics): a concept family's patterns hold dozens of spellings, and the job and the benchmark
 * match the same compiled topics run after run.
 */
const topicStems = new WeakMap<CompiledTopic, Set<string>>();
function stemsOfTopic(topic: CompiledTopic): Set<string> {
  let stems = topicStems.get(topic);
  if (!stems) {
    stems = queryStems(topic.root);
    topicStems.set(topic, stems);
  }
  return stems;
}

/** Any exclusion of the query (at any depth) present in the paper. */
function excluded(node: CompiledNode, doc: AnalyzedPaper): boolean {
  if (node.kind === 'leaf') return false;
  if (node.kind === 'or') return node.children.some((c) => excluded(c, doc));
  return node.negative.some((c) => present(c, doc)) || node.positive.some((c) => excluded(c, doc));
}

function addFeedback(scorer: Scorer, feedback: FeedbackIndex, batch: PaperBatch, topic: CompiledTopic, found: TopicMatch[], admit: boolean): void {
  if (found.length < MIN_FEEDBACK_DOCS || !feedbackAllowed(topic.root)) return;
  // The feedback set is the best FEEDBACK_DOCS in the order of compareMatches; the rest need no order
  // here (the caller sorts once the scores are lifted).
  const confident = found.map((m) => batch.indexOf(m.paperId));
  const best = bestMatches(found, FEEDBACK_DOCS).map((k) => confident[k]);
  const centroid = feedback.centroid(best, stemsOfTopic(topic), confident);
  if (!centroid || centroid.level <= 0) return;
  const lift = (sim: number) => 1 + FEEDBACK_LIFT * Math.min(2, sim / centroid.level);
  const sims = centroid.similarities!;
  for (let k = 0; k < found.length; k++) found[k].score = round(found[k].score * lift(sims[k]));
  if (!admit) return;
  const similar = feedback.similarPapers(centroid, centroid.level, new Set(confident));
  for (const [d, sim] of [...similar].sort((a, b) => a[0] - b[0])) {
    const doc = batch.docs[d];
    if (excluded(topic.root, doc)) continue;
    winners.clear();
    partners.clear();
    const ratio = evaluate(scorer, topic.root, doc, d);
    // Half the strict threshold of the query's own evidence, and as like the confident matches
    // as they are like each other.
    if (ratio < MEMBERSHIP / 2 || lastScore <= 0) continue;
    const why: string[] = [];
    explain(topic.root, doc, why);
    why.push(`like the other matches (${feedback.termNames(centroid, 3).map(quote).join(', ')})`);
    found.push({ paperId: doc.id, score: round(lastScore * lift(sim)), why: why.join('; ') });
  }
}

/** Indexes of the best n matches in compareMatches' order, without sorting them all (an insertion into n places). */
function bestMatches(found: TopicMatch[], n: number): number[] {
  const best: number[] = [];
  for (let k = 0; k < found.length; k++) {
    if (best.length === n && compareMatches(found[k], found[best[n - 1]]) >= 0) continue;
    let at = best.length < n ? best.length : n - 1;
    while (at > 0 && compareMatches(found[k], found[best[at - 1]]) < 0) {
      if (at < n) best[at] = best[at - 1];
      at--;
    }
    best[at] = k;
  }
  return best;
}

/**
 * The order of a topic's matches: best first, ties by paper id. Comparisons rather than
 * `b.score - a.score`: the sort takes the comparator's result as a value, and a difference of two
 * scores is a fresh heap number each time (a run sorts 125,000 matches).
 */
function compareMatches(a: TopicMatch, b: TopicMatch): number {
  return a.score > b.score ? -1 : a.score < b.score ? 1 : a.paperId < b.paperId ? -1 : a.paperId > b.paperId ? 1 : 0;
}

/** Best first, ties by paper id. */
function sortMatches(found: TopicMatch[]): TopicMatch[] {
  return found.sort(compareMatches);
}

/** A topic that is one plain word (the most common alert): scored straight from the postings. */
function singleTerm(root: CompiledNode): LeafNode | undefined {
  if (root.kind !== 'leaf' || root.field === 'author' || root.patterns.length !== 1) return undefined;
  const slots = root.patterns[0].slots;
  return slots.length === 1 && slots[0].alts.length === 1 && slots[0].alts[0].length === 1 ? root : undefined;
}

/** Same result as evaluate + explain for a single-term leaf, without per-paper lookups. */
function matchSingleTerm(scorer: Scorer, batch: PaperBatch, leaf: LeafNode): TopicMatch[] {
  const found: TopicMatch[] = [];
  const pattern = leaf.patterns[0];
  const slot = pattern.slots[0];
  const post = batch.postings(slot.alts[0][0]);
  if (!post) return found;
  const useTitle = leaf.field !== 'abstract';
  const useAbstract = leaf.field !== 'title';
  const weight = scorer.info(pattern).reference;
  // The three possible explanations, made once for the topic rather than once per paper.
  const quoted = `"${slot.altText[0]}" in `;
  const inTitleWhy = `${quoted}title`;
  const inAbstractWhy = `${quoted}abstract`;
  const inBothWhy = `${quoted}title and abstract`;
  for (let k = 0; k < post.docs.length; k++) {
    const doc = batch.docs[post.docs[k]];
    const inTitle = useTitle && post.title[k] > 0;
    const inAbstract = useAbstract && post.abstract[k] > 0;
    let tf = 0;
    if (inTitle) tf += scorer.fieldWeight('title', doc.title) * post.title[k];
    if (inAbstract) tf += scorer.fieldWeight('abstract', doc.abstract) * post.abstract[k];
    if (tf <= 0) continue;
    const ratio = sat(tf);
    if (ratio < MEMBERSHIP || ratio * weight <= 0) continue;
    found.push({ paperId: doc.id, score: round(ratio * weight), why: inTitle ? (inAbstract ? inBothWhy : inTitleWhy) : inAbstractWhy });
  }
  return found;
}
