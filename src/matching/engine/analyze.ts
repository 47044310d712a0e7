import { BACKGROUND, GAP_BEFORE, NOMINAL, OPERATION_FORM, PUNCT_BEFORE, scanTokens, SENTENCE_START, tokenize, Token } from './tokenize';
import type { EnginePaper } from './types';

/** Occurrences of each stem in one field, as a flat [start, end, start, end, …] list sorted by start. */
export interface FieldIndex {
  length: number;
  occ: Map<string, number[]>;
  /**
   * Cues by position (tokenize's LIST_BEFORE | LIST_AFTER enumeration cues, GAP_BEFORE where a stop
   * word or punctuation separates a token from the previous one, with PUNCT_BEFORE for punctuation;
   * BACKGROUND on the positions of an abstract's opening sentences, PARENTHESIZED on those inside
   * parentheses; SENTENCE_START where a sentence after the first starts, and NOMINAL on nouns of action,
   * in titles too); absent when the field has none.
   */
  cues?: Uint8Array;
  /**
   * Positions, ascending, that "of" (and at most an article) separates from the previous content
   * token ("rates of convergence": the position of "convergence"); absent when there are none. See
   * the matcher's linkBroken.
   */
  linked?: number[];
}

export interface AnalyzedPaper {
  id: string;
  title: FieldIndex;
  abstract: FieldIndex;
  author: FieldIndex;
}

/** Positions left between two authors so that a name never runs into the next one. */
const AUTHOR_GAP = 4;

function indexTokens(tokens: Token[], length: number): FieldIndex {
  const occ = new Map<string, number[]>();
  let unsorted = false;
  for (const t of tokens) {
    let list = occ.get(t.stem);
    if (!list) {
      list = [];
      occ.set(t.stem, list);
    } else if (list[list.length - 2] > t.start) {
      unsorted = true;
    }
    list.push(t.start, t.end);
  }
  if (unsorted) sortOccurrences(occ);
  return { length, occ };
}

function sortOccurrences(occ: Map<string, number[]>): void {
  for (const [stem, list] of occ) {
    const pairs: [number, number][] = [];
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    occ.set(stem, pairs.flat());
  }
}

/**
 * `listCues: false` leaves out the enumeration cues, the PARENTHESIZED marks and the BACKGROUND
 * marks of the opening sentences (a title's; the gaps and sentence starts are recorded either way).
 */
export function analyzeField(text: string, { listCues = true }: { listCues?: boolean } = {}): FieldIndex {
  const occ = new Map<string, number[]>();
  let unsorted = false;
  let cueAt: number[] | undefined;
  let linked: number[] | undefined;
  let opening: number[] | undefined;
  let opened = false;
  const length = scanTokens(
    text ?? '',
    0,
    (stem, start, end, surface) => {
      if (OPERATION_FORM.test(surface)) (cueAt ??= []).push(start, NOMINAL);
      const list = occ.get(stem);
      if (!list) {
        occ.set(stem, [start, end]);
        return;
      }
      if (list[list.length - 2] > start) unsorted = true;
      list.push(start, end);
    },
    listCues ? (position, flags) => (cueAt ??= []).push(position, flags) : undefined,
    (position, punctuation, isLinked) => {
      (cueAt ??= []).push(position, punctuation ? GAP_BEFORE | PUNCT_BEFORE : GAP_BEFORE);
      if (isLinked) (linked ??= []).push(position);
    },
    (from, to, own) => {
      // Where each sentence after the first starts: no phrase runs across (SENTENCE_START).
      if (from > 0) (cueAt ??= []).push(from, SENTENCE_START);
      // The opening: the sentences before the first one that speaks of the paper's own work,
      // marked once that sentence comes (an abstract with none has no opening to tell).
      if (!listCues || opened) return;
      if (!own) {
        (opening ??= []).push(from, to);
        return;
      }
      opened = true;
      if (opening) for (let k = 0; k < opening.length; k += 2) for (let i = opening[k]; i < opening[k + 1]; i++) (cueAt ??= []).push(i, BACKGROUND);
    },
  );
  if (unsorted) sortOccurrences(occ);
  if (!cueAt) return { length, occ };
  const cues = new Uint8Array(length + 1);
  for (let i = 0; i < cueAt.length; i += 2) cues[cueAt[i]] |= cueAt[i + 1];
  return linked ? { length, occ, cues, linked } : { length, occ, cues };
}

export function analyzeAuthors(authors: string[] | undefined): FieldIndex {
  const all: Token[] = [];
  let pos = 0;
  for (const a of authors ?? []) {
    const { tokens, length } = tokenize(a, pos);
    all.push(...tokens);
    pos += length + AUTHOR_GAP;
  }
  return indexTokens(all, pos);
}

/**
 * Sentences of an abstract that say where to find the paper's code or artefacts rather than what it
 * is about: any sentence with a link, and a sentence saying that its code or implementation is (or
 * will be) available or released. A fifth of abstracts say "Our code is available at
 * https://github.com/…" or the like, and a link's path spells out words
 * ("…/Awesome-Parameter-Efficient-Fine-Tuning").
 */
const AVAILABILITY = [
  /\bhttps?:\/\/|\bwww\.|\bgithub\.(?:com|io)\b|\bhuggingface\.co\b|\bbit\.ly\//i,
  /\b(?:code|codes|implementations?)\b[^.!?]{0,80}?\b(?:is|are|will\s+be|has\s+been|have\s+been)\s+(?:made\s+)?(?:publicly\s+|freely\s+|openly\s+)?(?:available|released|open[- ]?sourced)\b/i,
  /\bwe\s+(?:will\s+|have\s+)?(?:publicly\s+)?(?:release[sd]?|open[- ]?source[sd]?)\s+(?:all\s+|our\s+|the\s+)*(?:source\s+)?(?:code|codes|implementations?)\b/i,
];

/** The text of an abstract that the analysis reads: without its availability sentences (see AVAILABILITY). */
export function abstractContent(abstract: string): string {
  const text = abstract ?? '';
  if (!AVAILABILITY.some((re) => re.test(text))) return text;
  return text
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => !AVAILABILITY.some((re) => re.test(sentence)))
    .join(' ');
}

export function analyzePaper(paper: EnginePaper): AnalyzedPaper {
  // No enumeration cues in a title: a title that lists topics names what the paper is about
  // ("Pruning, Knowledge Distillation and Quantization: a Survey"), an abstract lists in passing.
  // Gaps are kept: a fixed term does not span a stop word in a title either.
  return {
    id: paper.id,
    title: analyzeField(paper.title, { listCues: false }),
    abstract: analyzeField(abstractContent(paper.abstract)),
    author: analyzeAuthors(paper.authors),
  };
}

/** Key under which the document frequency of two adjacent stems is kept. */
export function bigramKey(a: string, b: string): string {
  return `${a} ${b}`;
}

/** Key under which the document frequency of three adjacent stems is kept. */
export function trigramKey(a: string, b: string, c: string): string {
  return `${a} ${b} ${c}`;
}

/**
 * Adds the field's stems and its adjacent-stem bigrams and trigrams (joined compounds included) to
 * `into`; returns the field's length in content-word positions (for the average lengths; see
 * paperCounts).
 */
export function collectFieldTerms(text: string, into: Set<string>): number {
  const { tokens, length } = tokenize(text ?? '');
  const byStart = new Map<number, Token[]>();
  for (const t of tokens) {
    into.add(t.stem);
    const list = byStart.get(t.start);
    if (list) list.push(t);
    else byStart.set(t.start, [t]);
  }
  for (const t of tokens) {
    for (const n of byStart.get(t.end + 1) ?? []) {
      into.add(bigramKey(t.stem, n.stem));
      for (const m of byStart.get(n.end + 1) ?? []) into.add(trigramKey(t.stem, n.stem, m.stem));
    }
  }
  return length;
}
