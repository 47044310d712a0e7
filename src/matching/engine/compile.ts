import { bigramKey, trigramKey } from './analyze';
import { Field, parseQuery, QueryNode, QuerySyntaxError } from './query-parser';
import { OPERATION_FORM, standsForJoined, stemWord, tokenize } from './tokenize';
import { Concepts, getDefaultConcepts, getDefaultVocabulary, groupsOf, primaryStems, Vocabulary, VocabForm } from './vocabulary';

/** One query word (or compound, or vocabulary concept) and the stem sequences that spell it. */
export interface Slot {
  alts: string[][];
  /** Text shown in explanations, parallel to alts. */
  altText: string[];
  text: string;
}

/** One way of spelling a query text: a sequence of slots to find near each other. */
export interface Pattern {
  slots: Slot[];
  /** True for the spelling the user typed; false for vocabulary variants. */
  primary: boolean;
  /**
   * Soft evidence (concept families): the pattern's ratio counts this much (< 1). Absent for the
   * typed spelling and vocabulary variants, which count fully.
   */
  weight?: number;
  /** For soft patterns: the query words the related forms stand in for, for explanations. */
  standsFor?: string;
  /** For soft patterns: 1 at the alts that are other names of the area, not related forms (see relatedRatio). */
  names?: Uint8Array;
  /**
   * For soft patterns: 1 at the alts that share no stem with any spelling of the query ("PAC
   * learning" for `generalization bounds`, not "human preferences" for `preference optimization`):
   * evidence of their own, which adds up with the query's words (see combinedRatio in matcher.ts).
   */
  independent?: Uint8Array;
  /**
   * For a spelling of two or more words (not soft): stems that follow its first word in a known term
   * other than the query (a multi-word form of the vocabulary or of any concept family that shares
   * none of its other words, does not start like a form of its own families, and has no hyphenated
   * first word): "learning" for `continual pre-training` ("continual learning"). A window with words
   * between whose first word is followed by one of them is that term's (see followersOf).
   */
  followers?: string[];
  /**
   * For the head-first spelling of a typed phrase whose head names an operation ("pruning networks"
   * for `network pruning`, see headFirstPattern): the typed pattern, whose association its words take.
   */
  headFirst?: Pattern;
  /**
   * For the compound spelling of a typed "A of B" ("plasticity loss" for `loss of plasticity`, see
   * ofCompoundPattern): the typed pattern, whose association its words take, and how many of the
   * typed slots are A's (the compound's last ones); `nominal` when A ends in a noun of action, which
   * the paper must write as one ("code generation", not "code generated").
   */
  compound?: { typed: Pattern; head: number; nominal: boolean };
  /**
   * For a typed two-word compound "B A" (see linkable): also written "A of B" ("rates of
   * convergence" for `convergence rates`), a window the matcher reads as the phrase itself.
   */
  linked?: boolean;
}

export interface LeafNode {
  kind: 'leaf';
  field: Field;
  /** Quoted phrase: the slots must appear adjacent and in order. */
  exact: boolean;
  text: string;
  /** patterns[0] is the typed spelling. */
  patterns: Pattern[];
}
export interface AndNode {
  kind: 'and';
  positive: CompiledNode[];
  negative: CompiledNode[];
  /** For the reading of a phrase as a known term and the rest (see termReading). */
  backoff?: Backoff;
}
/**
 * The reading of a phrase as a known term it starts or ends with and the rest. It counts while no
 * paper of the collection writes the phrase in any of its own spellings (`phrase`, the typed one
 * first), with the longest term of `splits` (longest first, the start before the end) that some
 * paper writes, of two as long the one more papers write, unless most papers write that term or
 * every word of its rest (the matcher's Scorer.readingHolds). Terms and
 * rests are runs of the typed spelling's slots, [start, end); a term that is one abbreviation has
 * its spellings in `spelled` ("LLM" is written when "large language models" is); `parts` compiles
 * a split's two concepts on first need: most readings never count, and a concept with its
 * vocabulary and family costs memory.
 */
export interface Backoff {
  phrase: Pattern[];
  splits: { term: [number, number]; rest: [number, number]; spelled?: Pattern }[];
  parts: (split: number) => CompiledNode[];
}
export interface OrNode {
  kind: 'or';
  children: CompiledNode[];
}
export type CompiledNode = LeafNode | AndNode | OrNode;

export interface CompiledTopic {
  id: string;
  query: string;
  ast: QueryNode;
  root: CompiledNode;
}

const MAX_PATTERNS = 8;
/**
 * What a related form of a concept family counts for, relative to the query's own words: half, so
 * a paper that only names a method of the area passes when it names it as clearly as a verbatim
 * mention of the query would (once in an abstract of average length, or in the title).
 */
export const CONCEPT_WEIGHT = 0.5;

function slotsOf(text: string): Slot[] {
  const { tokens, length } = tokenize(text);
  const primary: string[] = new Array(length);
  const surface: string[] = new Array(length);
  const joinedAt = new Map<number, { end: number; stem: string; surface: string }>();
  for (const t of tokens) {
    if (t.start === t.end && primary[t.start] === undefined) {
      primary[t.start] = t.stem;
      surface[t.start] = t.surface;
    } else if (!joinedAt.has(t.start) || joinedAt.get(t.start)!.end < t.end) {
      joinedAt.set(t.start, { end: t.end, stem: t.stem, surface: t.surface });
    }
  }
  for (const [p, j] of joinedAt) {
    if (j.end === p && standsForJoined(j.surface)) {
      primary[p] = j.stem;
      surface[p] = j.surface;
      joinedAt.delete(p);
    }
  }
  const slots: Slot[] = [];
  for (let p = 0; p < length; ) {
    const j = joinedAt.get(p);
    if (j) {
      const parts = primary.slice(p, j.end + 1);
      const alts = parts.join(' ') === j.stem ? [parts] : [parts, [j.stem]];
      slots.push({ alts, altText: alts.map(() => j.surface), text: j.surface });
      p = j.end + 1;
    } else {
      slots.push({ alts: [[primary[p]]], altText: [surface[p]], text: surface[p] });
      p++;
    }
  }
  return slots;
}

function startsWith(seq: string[], at: number, form: string[]): boolean {
  if (at + form.length > seq.length) return false;
  for (let i = 0; i < form.length; i++) if (seq[at + i] !== form[i]) return false;
  return true;
}

function containsSub(form: string[], sub: string[]): boolean {
  for (let i = 0; i + sub.length <= form.length; i++) if (startsWith(form, i, sub)) return true;
  return false;
}

/**
 * `first`, then the forms of the vocabulary groups `groups` and the one-word forms of the groups
 * `abbreviationsOnly` (each list in group order), each spelling once.
 */
function groupSpellings(first: VocabForm, vocab: Vocabulary, groups: number[], abbreviationsOnly: number[] = []): VocabForm[] {
  const forms = [first];
  const seen = new Set([first.stems.join(' ')]);
  const add = (f: VocabForm) => {
    const key = f.stems.join(' ');
    if (!seen.has(key)) {
      seen.add(key);
      forms.push(f);
    }
  };
  const byGroup = (x: number, y: number) => x - y;
  for (const g of groups.sort(byGroup)) vocab.groups[g].forEach(add);
  for (const g of abbreviationsOnly.sort(byGroup)) vocab.groups[g].filter((f) => f.stems.length === 1).forEach(add);
  return forms;
}

/**
 * Vocabulary variants: a run of slots that spells a vocabulary form may be written as any form of
 * its group ("reinforcement learning" ↔ "RL"); a run of two or more stems inside a longer form may
 * also be written as that form's group ("preference optimization" ⊂ "direct preference
 * optimization" = DPO), since the longer concept is a specific instance of the shorter.
 */
function vocabularyPatterns(slots: Slot[], vocab: Vocabulary): Pattern[] {
  // Each slot's first alternative is its typed spelling; vocabulary runs must align with slots.
  const seq: string[] = [];
  const slotStart: number[] = [];
  for (const s of slots) {
    slotStart.push(seq.length);
    seq.push(...s.alts[0]);
  }
  const ranges: { from: number; to: number; forms: VocabForm[]; text: string }[] = [];
  for (let a = 0; a < slots.length; a++) {
    for (let b = slots.length - 1; b >= a; b--) {
      const start = slotStart[a];
      const end = slotStart[b] + slots[b].alts[0].length;
      const sub = seq.slice(start, end);
      const same = new Set(groupsOf(vocab, sub));
      const narrower = new Set<number>();
      if (sub.length >= 2) {
        for (const g of vocab.byContainedStem.get(sub[0]) ?? []) {
          if (!same.has(g) && vocab.groups[g].some((f) => f.stems.length > sub.length && containsSub(f.stems, sub))) {
            narrower.add(g);
          }
        }
      }
      if (same.size === 0 && narrower.size === 0) continue;
      const typed = { stems: sub, text: slots.slice(a, b + 1).map((s) => s.text).join(' ') };
      // Of a narrower concept only its one-word abbreviations: its longer spellings already contain
      // the query's words or one of their abbreviations.
      const forms = groupSpellings(typed, vocab, [...same], [...narrower]);
      ranges.push({ from: a, to: b, forms, text: forms[0].text });
    }
  }
  const patterns: Pattern[] = [];
  for (const r of ranges) {
    if (patterns.length >= MAX_PATTERNS - 1) break;
    const merged: Slot = {
      alts: r.forms.map((f) => f.stems),
      altText: r.forms.map((f) => f.text),
      text: r.text,
    };
    // Keep the typed spelling of a single slot's own alternatives (e.g. joined compounds).
    if (r.from === r.to) {
      for (let i = 1; i < slots[r.from].alts.length; i++) {
        const alt = slots[r.from].alts[i];
        if (merged.alts.some((a) => a.join(' ') === alt.join(' '))) continue;
        merged.alts.push(alt);
        merged.altText.push(slots[r.from].altText[i]);
      }
    }
    patterns.push({ slots: [...slots.slice(0, r.from), merged, ...slots.slice(r.to + 1)], primary: false });
  }
  return patterns;
}

/**
 * Heads with the ending of an operation (OPERATION_FORM) that are never read head first:
 * - "learning": "X learning" names a kind of learning (continual, federated, representation,
 *   online), and "learning X" is how abstracts say what any model does ("learning good
 *   representations", "learning features online");
 * - -tion nouns that name a thing, not an act: "function values" are no value function, "equation
 *   solvers" no solver equation, "question answering" keeps its head ("answering").
 */
const NOT_AN_OPERATION = /(?:^|-)(?:learning|function|equation|question|condition|position|section|fraction|portion|notion|caption)s?$/;
/** A participle ("distributed", "supervised"): a modifier that describes the head, not its object. */
const PARTICIPLE_WORD = /ed$/;

/**
 * Head-first variant: a phrase whose last word names an operation on what the words before it name
 * is written head first as often as head last ("network pruning" / "pruning networks", "model
 * merging" / "merging models", "test-time compute scaling" / "scaling test-time compute", "data
 * selection" / "selecting data"), and words out of order make no window otherwise (which keeps
 * "generative models such as Stable Diffusion" from reading as diffusion models, whose head names
 * no operation). Not when a modifier is a participle ("distributed training" is no "training
 * distributed …"), nor for quoted phrases or authors. The matcher reads such a window only as a
 * fixed phrase (see findWindows).
 */
function headFirstPattern(node: TextNode, slots: Slot[], typed: Pattern): Pattern | undefined {
  if (node.field === 'author' || node.quoted || slots.length < 2) return undefined;
  const head = slots[slots.length - 1];
  const headText = head.text.toLowerCase();
  if (!OPERATION_FORM.test(headText) || NOT_AN_OPERATION.test(headText)) return undefined;
  if (slots.slice(0, -1).some((s) => PARTICIPLE_WORD.test(s.text.toLowerCase()))) return undefined;
  return { slots: [head, ...slots.slice(0, -1)], primary: false, headFirst: typed };
}

/**
 * Compound variant: a typed "A of B" names what English writes as often, and in titles mostly, as
 * the compound "B A" ("loss of plasticity" / "plasticity loss", "theory of transformers" /
 * "transformer theory", "robustness of vision-language models" / "vision-language model
 * robustness", "generation of code" / "code generation"), whose words in the typed order make no
 * window. Read as a fixed phrase only (adjacent, no punctuation, coordinator or sentence end
 * inside, and a noun of action written as one: see the matcher's findWindows; "transformers trained
 * on …" is no "transformer training"). Its words keep the typed phrase's association, as a
 * head-first spelling's do: a compound's pairs bound how often papers write it loosely ("model
 * quantization" for "large language model quantization"), and a lone "quantization" is no evidence
 * for `quantization of large language models`. Only for "of", once, with nothing else joined
 * ("theory of learning in games" stays as typed).
 */
function ofCompoundPattern(text: string, slots: Slot[], typed: Pattern): Pattern | undefined {
  const parts = text.split(/\s+of\s+/i);
  if (parts.length !== 2 || parts.some((t) => CONNECTOR.test(` ${t} `))) return undefined;
  const [a, b] = parts.map(slotsOf);
  if (a.length === 0 || b.length === 0 || a.length + b.length !== slots.length) return undefined;
  const last = a[a.length - 1].text.toLowerCase();
  const nominal = OPERATION_FORM.test(last) && !NOT_AN_OPERATION.test(last);
  return { slots: [...slots.slice(a.length), ...slots.slice(0, a.length)], primary: false, compound: { typed, head: a.length, nominal } };
}

/**
 * Whether a typed two-word compound "B A" names what English also writes "A of B" ("convergence
 * rates" / "rates of convergence", "training dynamics" / "dynamics of training", "language models"
 * / "models of language"): read by the matcher as the head, "of" and at most an article, then the
 * modifier (see its linkBroken). A flag on the typed spelling, not a spelling of its own: the
 * benchmark's 40,000 alerts, half of them two words, would each carry one more pattern. Not for
 * heads that name an operation, "learning" among them (the head-first variant reads those, "pruning
 * of networks"; "learning of features" is no feature learning), nor participle modifiers, nor a
 * typed "A of B".
 */
function linkable(node: TextNode, slots: Slot[]): boolean {
  if (node.field === 'author' || node.quoted || slots.length !== 2 || slots.some((s) => s.alts[0].length !== 1)) return false;
  if (/\s+of\s+/i.test(node.text)) return false;
  return !OPERATION_FORM.test(slots[1].text.toLowerCase()) && !PARTICIPLE_WORD.test(slots[0].text.toLowerCase());
}

/**
 * Concept-family variant: a query text that names a broad area ("parameter-efficient
 * fine-tuning", "network pruning") may be written as any of the area's well-known methods
 * ("LoRA", "prompt tuning"), as soft evidence (CONCEPT_WEIGHT). Only the whole text counts: in
 * "offline reinforcement learning" the words name a narrower area than "reinforcement learning".
 */
function conceptPattern(
  { keys, families }: { keys: string[]; families: number[] },
  concepts: Concepts,
  vocab: Vocabulary,
  shown: string,
  ownStems: Set<string>,
): Pattern | undefined {
  if (families.length === 0) return undefined;
  const seen = new Set<string>(keys);
  const alts: string[][] = [];
  const altText: string[] = [];
  const nameAt: number[] = [];
  for (const fi of families) {
    const family = concepts.families[fi];
    // The area's names count like its methods, as names (at least as specific as the query, or not
    // at all): for an alert that is another name, they are the same area in other words; for one
    // that is an `also` text, a broader way to ask for the area ("image segmentation" for semantic
    // segmentation, "overparameterization" for double descent), they are the area itself (tenth
    // round; until then such an alert found the methods only).
    const nameKeys = new Set(family.names.map((n) => n.stems.join(' ')));
    for (const [list, name] of [[withBasedSpellings(withSpellings(family.related, vocab, nameKeys)), false], [family.names, true]] as const) {
      for (const f of list) {
        const k = f.stems.join(' ');
        if (seen.has(k)) continue;
        seen.add(k);
        if (name) nameAt.push(alts.length);
        alts.push(f.stems);
        altText.push(f.text);
      }
    }
  }
  if (alts.length === 0) return undefined;
  // The why text names the query as the reader wrote it ("explainable AI", "reinforcement learning
  // from human feedback"), not its content words.
  const text = shown.trim().replace(/\s+/g, ' ');
  const names = nameAt.length ? new Uint8Array(alts.length) : undefined;
  for (const a of nameAt) names![a] = 1;
  const independent = Uint8Array.from(alts, (stems) => (stems.some((s) => ownStems.has(s)) ? 0 : 1));
  return { slots: [{ alts, altText, text }], primary: false, weight: CONCEPT_WEIGHT, standsFor: text, names, independent };
}

/**
 * The concept families a text names: by its stems (`keys[0]`), or by another spelling of it
 * ("reinforcement learning from human feedback" for "RLHF").
 */
function familiesOf(slots: Slot[], concepts: Concepts, vocab: Vocabulary): { keys: string[]; families: number[] } {
  const stems = slots.flatMap((s) => s.alts[0]);
  const keys = [stems.join(' ')];
  for (const g of groupsOf(vocab, stems)) {
    for (const other of vocab.groups[g]) {
      const k = other.stems.join(' ');
      if (!keys.includes(k)) keys.push(k);
    }
  }
  return { keys, families: [...new Set(keys.flatMap((k) => concepts.byName.get(k) ?? []))] };
}

/**
 * A family's related forms with the other spellings the vocabulary gives each whole form ("reinforcement
 * learning from human feedback" and "RLHF", "test-time adaptation" and "TTA"): an abbreviation and
 * its expansion find each other in a paper as they do in a query. Spellings that are names of the
 * family stay names.
 */
function withSpellings(related: VocabForm[], vocab: Vocabulary, nameKeys: Set<string>): VocabForm[] {
  const out: VocabForm[] = [];
  for (const f of related) {
    out.push(f);
    for (const g of groupsOf(vocab, f.stems)) {
      for (const other of vocab.groups[g]) if (!nameKeys.has(other.stems.join(' '))) out.push(other);
    }
  }
  return out;
}

/**
 * Related forms with their "X-based" spelling: "preference-based feedback" is preference feedback,
 * "kernel-based methods" kernel methods. A related form is read as a fixed term (its words
 * adjacent), so the modifier written as "X-based" would otherwise hide it. The query's own words
 * need no such spelling: their windows allow words between.
 */
function withBasedSpellings(forms: VocabForm[]): VocabForm[] {
  const based = stemWord('based');
  const out: VocabForm[] = [];
  for (const f of forms) {
    out.push(f);
    const words = f.text.split(/\s+/);
    if (f.stems.length >= 2 && words.length === f.stems.length && !words[0].includes('-')) {
      out.push({ stems: [f.stems[0], based, ...f.stems.slice(1)], text: `${words[0]}-based ${words.slice(1).join(' ')}` });
    }
  }
  return out;
}

/**
 * Every multi-word form of the vocabulary and the concept families, by first stem, and each
 * family's first two stems of every form (built once per vocabulary and families).
 */
interface KnownTerms {
  vocab: Vocabulary;
  byFirst: Map<string, KnownTerm[]>;
  heads: Map<number, Set<string>>;
}

/** A known multi-word form: its stems, and its first two joined by a space. */
interface KnownTerm {
  stems: string[];
  head: string;
}

const knownTermsCache = new WeakMap<Concepts, KnownTerms>();

/** The first two stems of every form of a family (its names, broader texts and methods, in every spelling). */
function familyHeads(known: KnownTerms, concepts: Concepts, vocab: Vocabulary, fi: number): Set<string> {
  let heads = known.heads.get(fi);
  if (!heads) {
    const f = concepts.families[fi];
    heads = new Set(withSpellings([...f.names, ...f.also, ...f.related], vocab, new Set()).map((form) => form.stems.slice(0, 2).join(' ')));
    known.heads.set(fi, heads);
  }
  return heads;
}

function knownTerms(vocab: Vocabulary, concepts: Concepts): KnownTerms {
  const cached = knownTermsCache.get(concepts);
  if (cached && cached.vocab === vocab) return cached;
  const byFirst = new Map<string, KnownTerm[]>();
  const seen = new Set<string>();
  const add = (f: VocabForm) => {
    const key = f.stems.join(' ');
    // A hyphenated first word ("large-scale training", "model-based RL") is a compound modifier: it
    // says what kind the next word is, and "large-scale language models" are language models.
    if (f.stems.length < 2 || seen.has(key) || /^[^\s-]+-/.test(f.text)) return;
    seen.add(key);
    const list = byFirst.get(f.stems[0]) ?? [];
    list.push({ stems: f.stems, head: `${f.stems[0]} ${f.stems[1]}` });
    byFirst.set(f.stems[0], list);
  };
  for (const g of vocab.groups) g.forEach(add);
  for (const f of concepts.families) [...f.names, ...f.also, ...f.related].forEach(add);
  const known: KnownTerms = { vocab, byFirst, heads: new Map() };
  knownTermsCache.set(concepts, known);
  return known;
}

/** See Pattern.followers. Only a first slot of one stem (not a hyphenated compound) has any. */
function followersOf(slots: Slot[], ownTerms: Set<string>, known: Map<string, KnownTerm[]>): string[] {
  const first = slots[0].alts;
  if (first.some((a) => a.length !== 1) || !first.some(([stem]) => known.has(stem))) return [];
  const others = new Set(slots.slice(1).flatMap((s) => s.alts.flat()));
  const out = new Set<string>();
  for (const [stem] of first) {
    for (const form of known.get(stem) ?? []) {
      // A term that shares another word with the query ("diffusion probabilistic models" for
      // diffusion models), or begins as one of the query's own family does, is no other term.
      if (ownTerms.has(form.head) || form.stems.some((s) => others.has(s))) continue;
      out.add(form.stems[1]);
    }
  }
  return out.size ? [...out].sort() : [];
}

type TextNode = Extract<QueryNode, { kind: 'text' }>;

/**
 * A text as one leaf: its slots (`slots`, when the caller has them already), its vocabulary
 * spellings, unless quoted the compound spelling of an "A of B", and, with `related` (by default
 * unless quoted: a quoted phrase asks for those words, and related methods are not those words),
 * the concept family it names.
 */
function compileLeaf(
  node: TextNode,
  vocab: Vocabulary,
  concepts: Concepts,
  { slots = slotsOf(node.text), related = !node.quoted }: { slots?: Slot[]; related?: boolean } = {},
): LeafNode {
  if (slots.length === 0) {
    throw new QuerySyntaxError(`"${node.text}" has no searchable words (stop words and punctuation are ignored)`);
  }
  const patterns: Pattern[] = [{ slots, primary: true }];
  if (linkable(node, slots)) patterns[0].linked = true;
  if (node.field !== 'author') patterns.push(...vocabularyPatterns(slots, vocab));
  const headFirst = headFirstPattern(node, slots, patterns[0]);
  if (headFirst) patterns.push(headFirst);
  const ofCompound = !node.quoted && node.field !== 'author' ? ofCompoundPattern(node.text, slots, patterns[0]) : undefined;
  if (ofCompound) patterns.push(ofCompound);
  let soft: Pattern | undefined;
  const found = node.field !== 'author' ? familiesOf(slots, concepts, vocab) : undefined;
  if (found && related) {
    // Every stem of the query's own spellings (typed and vocabulary).
    const ownStems = new Set(patterns.flatMap((p) => p.slots.flatMap((slot) => slot.alts.flat())));
    soft = conceptPattern(found, concepts, vocab, node.text, ownStems);
    if (soft) patterns.push(soft);
  }
  if (found && !node.quoted) {
    // The terms of the query's own families (names, broader texts, methods) are the query's area:
    // a window they start stays the query's.
    const known = knownTerms(vocab, concepts);
    const { families } = found;
    const ownTerms = families.length === 1 ? familyHeads(known, concepts, vocab, families[0]) : new Set(families.flatMap((fi) => [...familyHeads(known, concepts, vocab, fi)]));
    for (const p of patterns) {
      if (p === soft || p.slots.length < 2) continue;
      const followers = followersOf(p.slots, ownTerms, known.byFirst);
      if (followers.length) p.followers = followers;
    }
  }
  return { kind: 'leaf', field: node.field, exact: node.quoted, text: node.text, patterns };
}

/**
 * Prepositions that join two terms of a plain-word query: "scaling laws for language models",
 * "diffusion models for protein design", "continual learning with pre-trained models".
 */
const CONNECTOR = /\s+(?:for|of|in|on|at|to|by|with|from|into|onto|via|as|under|over|through|towards?|about|between)\s+/i;

/** Words of a run of slots, a hyphenated compound counting as the words it joins. */
function wordCount(slots: Slot[]): number {
  let n = 0;
  for (const s of slots) n += s.alts[0].length;
  return n;
}

/**
 * A one-word slot with the spellings of its vocabulary groups (itself first), when one of them has
 * more words ("LLM": "large language model"); undefined otherwise.
 */
function spelledOut(slot: Slot, vocab: Vocabulary): Slot | undefined {
  if (slot.alts[0].length !== 1) return undefined;
  const forms = groupSpellings({ stems: slot.alts[0], text: slot.altText[0] }, vocab, groupsOf(vocab, slot.alts[0]));
  if (!forms.some((f) => f.stems.length > 1)) return undefined;
  return { alts: forms.map((f) => f.stems), altText: forms.map((f) => f.text), text: slot.text };
}

/**
 * The terms a plain-word query joins with prepositions, when one of them at least has two or more
 * words ("reasoning in large language models", or a hyphenated compound: "self-training with
 * pseudo-labels"); undefined otherwise: single words joined by a
 * preposition are mostly a fixed term of their own ("mixture of experts", "learning to rank", "theory
 * of mind", "chain of thought") and stay one phrase.
 */
function connectedTerms(text: string): { terms: { text: string; slots: Slot[] }[]; combines: boolean } | undefined {
  const texts = text.split(CONNECTOR).map((t) => t.trim());
  if (texts.length < 2) return undefined;
  const terms = texts.map((t) => ({ text: t, slots: slotsOf(t) }));
  // A hyphenated compound ("self-training", "pseudo-labels") is a term of two words written as one.
  if (!terms.every((t) => t.slots.length >= 1) || !terms.some((t) => wordCount(t.slots) >= 2)) return undefined;
  // Every term of two or more words: the text combines terms (see compileText).
  return { terms, combines: terms.every((t) => wordCount(t.slots) >= 2) };
}

/**
 * A plain-word run is one soft phrase; one that joins terms with prepositions may also be written as
 * its terms, each a soft phrase of its own, anywhere in the paper: "scaling laws for language models"
 * is also "scaling laws" AND "language models", so "Training language models to self-correct via
 * reinforcement learning" is found for `reinforcement learning for language models`, and every
 * paper on reasoning that names large language models for `reasoning in large language models`.
 * When every term has two or more words, the text combines terms rather than naming one thing: the
 * whole counts only as written (the exact phrase), through its own abbreviations (RLHF for
 * "reinforcement learning from human feedback") and through the concept family it names, if any. Its
 * words alone would send a paper that names one term only, and its words without the first are no
 * head phrase of it ("learning language models" of `reinforcement learning for language models` is
 * "Machine Learning with Language Models"). A one-word term keeps the whole a soft phrase, sub-phrase
 * included: "learning from human preferences" still finds a paper that only says "human preferences".
 */
function compileText(node: TextNode, vocab: Vocabulary, concepts: Concepts, inExclusion: boolean): CompiledNode {
  const plain = !node.quoted && node.field !== 'author';
  const conjuncts = plain && !inExclusion ? coordinated(node.text, vocab, concepts) : undefined;
  const typed = compileWords(node, vocab, concepts, inExclusion);
  if (!conjuncts) return typed;
  return { kind: 'or', children: [typed, ...conjuncts.map((t) => compileWords({ ...node, text: t }, vocab, concepts, inExclusion))] };
}

/**
 * The phrases a plain text that coordinates two with "and" stands for, either of which the reader
 * wants ("LLM security and privacy": "LLM security" OR "LLM privacy"): the words the two sides
 * share go with each, a single word against two or more taking the longer side's other words
 * ("image and video generation": "image generation", "video generation"; "3D human pose and
 * motion": "3D human pose", "3D human motion"), and otherwise each side stands alone ("bias and
 * fairness": "bias", "fairness"). Not when the text spelled without "and" is a vocabulary form or names a concept
 * family ("vision and language models" are vision-language models), nor with a preposition or a
 * second "and". The text as typed, every word required, stays a reading of its own.
 */
function coordinated(text: string, vocab: Vocabulary, concepts: Concepts): string[] | undefined {
  const words = text.trim().split(/\s+/);
  const at = words.indexOf('and');
  if (at <= 0 || at === words.length - 1 || words.indexOf('and', at + 1) >= 0 || CONNECTOR.test(` ${text} `)) return undefined;
  const left = words.slice(0, at);
  const right = words.slice(at + 1);
  const stems = primaryStems([...left, ...right].join(' '));
  if (stems.length === 0 || groupsOf(vocab, stems).length > 0 || concepts.byName.has(stems.join(' '))) return undefined;
  if (left.length === 1 && right.length >= 2) return [[...left, ...right.slice(1)].join(' '), right.join(' ')];
  if (left.length >= 2 && right.length === 1) return [left.join(' '), [...left.slice(0, -1), ...right].join(' ')];
  return [left.join(' '), right.join(' ')];
}

function compileWords(node: TextNode, vocab: Vocabulary, concepts: Concepts, inExclusion: boolean): CompiledNode {
  const plain = !node.quoted && node.field !== 'author';
  const split = plain ? connectedTerms(node.text) : undefined;
  if (!split) {
    const leaf = compileLeaf(node, vocab, concepts);
    const reading = plain && !inExclusion ? termReading(node, leaf, vocab, concepts) : undefined;
    return reading ? { kind: 'or', children: [leaf, reading] } : leaf;
  }
  const { terms, combines } = split;
  // Exact when it combines terms, and with the family it names either way.
  const whole = compileLeaf({ ...node, quoted: combines }, vocab, concepts, { related: true });
  const positive = appliedTo(node.text, terms, vocab).map((t) => compileLeaf({ ...node, text: t.text }, vocab, concepts, { slots: t.slots }));
  return { kind: 'or', children: [whole, { kind: 'and', positive, negative: [] }] };
}

/** The field every paper of the collection belongs to: its names, with their vocabulary spellings (ML, AI, DL). */
const FIELD_NAMES = ['machine learning', 'deep learning', 'artificial intelligence'];
const fieldKeysCache = new WeakMap<Vocabulary, Set<string>>();

function fieldKeys(vocab: Vocabulary): Set<string> {
  let keys = fieldKeysCache.get(vocab);
  if (!keys) {
    keys = new Set();
    for (const name of FIELD_NAMES) {
      const stems = primaryStems(name);
      for (const form of groupSpellings({ stems, text: name }, vocab, groupsOf(vocab, stems))) keys.add(form.stems.join(' '));
    }
    fieldKeysCache.set(vocab, keys);
  }
  return keys;
}

/**
 * The terms a text requires when it applies the field itself to an area ("machine learning for
 * environmental science", "deep learning in medical imaging"): the area alone. Every paper of a
 * machine-learning collection is machine learning, and most do not say so in those words
 * ("Foundation Model for Weather and Climate"), so the field is no requirement. Only for the field
 * named first and joined by "for" or "in": "theory of deep learning" keeps both terms.
 */
function appliedTo<T extends { slots: Slot[] }>(text: string, terms: T[], vocab: Vocabulary): T[] {
  const connector = text.match(CONNECTOR)?.[0].trim().toLowerCase();
  if (terms.length !== 2 || (connector !== 'for' && connector !== 'in')) return terms;
  const first = terms[0].slots.flatMap((s) => s.alts[0]).join(' ');
  return fieldKeys(vocab).has(first) ? [terms[1]] : terms;
}

/**
 * A plain-word phrase of three or more words that no paper of the collection writes names nothing
 * the collection can measure: its words have no association with it (see the matcher's
 * PatternInfo.association), so they count only close together, and papers that say the same thing
 * with the words apart are lost. Such a phrase is mostly a known term with what about it the reader
 * wants ("deep learning optimizers", "diffusion model sampling", "steering language models",
 * "harmful fine-tuning"), so it is also read as that term AND the rest, each a soft phrase of its
 * own anywhere in the paper, as the preposition rule reads "sampling for diffusion models": the
 * longest run of two or more words the phrase starts or ends with that some paper of the collection
 * writes (of a start and an end as long, the one more papers write). An abbreviation counts as the
 * words it stands for (spelledOut), and as a term it is written when any of its spellings is:
 * `LLM compression` is read as `large language model compression` is. Not when the text names a
 * concept family: `explainable AI` is a known term, no "AI" AND "explainable". Whether the phrase is
 * unseen and which term is known depend on the collection, so the matcher decides (Backoff). Not in
 * exclusions, which are decided without statistics (see the matcher's `present`).
 */
function termReading(node: TextNode, whole: LeafNode, vocab: Vocabulary, concepts: Concepts): AndNode | undefined {
  const slots = whole.patterns[0].slots;
  const n = slots.length;
  // A one-slot text has no term and rest to split into: decided before its slot is spelled out.
  if (n < 2) return undefined;
  const named = whole.patterns.some((p) => p.weight !== undefined);
  const spelled = slots.map((s) => (named ? undefined : spelledOut(s, vocab)));
  const words = ([start, end]: [number, number]) => {
    let count = 0;
    for (let i = start; i < end; i++) count += Math.max(slots[i].alts[0].length, ...(spelled[i]?.alts.map((a) => a.length) ?? []));
    return count;
  };
  if (words([0, n]) < 3) return undefined;
  const splits: Backoff['splits'] = [];
  for (let k = n - 1; k >= 1; k--) {
    for (const [term, rest] of [
      [[0, k], [k, n]],
      [[n - k, n], [0, n - k]],
    ] as [number, number][][]) {
      if (words(term) < 2) continue;
      const abbreviation = term[1] - term[0] === 1 ? spelled[term[0]] : undefined;
      splits.push(abbreviation ? { term, rest, spelled: { slots: [abbreviation], primary: false } } : { term, rest });
    }
  }
  const leafOf = (run: Slot[]) => compileLeaf({ ...node, text: run.map((s) => s.text).join(' ') }, vocab, concepts, { slots: run });
  const compiled: CompiledNode[][] = [];
  const parts = (i: number) => (compiled[i] ??= [leafOf(slots.slice(...splits[i].term)), leafOf(slots.slice(...splits[i].rest))]);
  const phrase = whole.patterns.filter((p) => p.weight === undefined);
  return { kind: 'and', positive: [], negative: [], backoff: { phrase, splits, parts } };
}

function compileNode(node: QueryNode, vocab: Vocabulary, concepts: Concepts, inExclusion = false): CompiledNode {
  switch (node.kind) {
    case 'text':
      return compileText(node, vocab, concepts, inExclusion);
    case 'or':
      return { kind: 'or', children: node.children.map((c) => compileNode(c, vocab, concepts, inExclusion)) };
    case 'not':
      return { kind: 'and', positive: [], negative: [compileNode(node.child, vocab, concepts, true)] };
    case 'and': {
      const positive: CompiledNode[] = [];
      const negative: CompiledNode[] = [];
      for (const c of node.children) {
        if (c.kind === 'not') negative.push(compileNode(c.child, vocab, concepts, true));
        else positive.push(compileNode(c, vocab, concepts, inExclusion));
      }
      return { kind: 'and', positive, negative };
    }
  }
}

export function compileQuery(
  id: string,
  query: string,
  vocab: Vocabulary = getDefaultVocabulary(),
  concepts: Concepts = getDefaultConcepts(),
): CompiledTopic {
  const ast = parseQuery(query);
  return { id, query, ast, root: compileNode(ast, vocab, concepts) };
}

/** null when the query is valid, else what is wrong with it. */
export function validateQuery(query: string): string | null {
  try {
    compileQuery('', query);
    return null;
  } catch (e) {
    if (e instanceof QuerySyntaxError) return e.message;
    throw e;
  }
}

/** Compiles distinct topic queries once; the message of a QuerySyntaxError names the topic. */
export function compileTopics(
  topics: { id: string; query: string }[],
  vocab: Vocabulary = getDefaultVocabulary(),
  concepts: Concepts = getDefaultConcepts(),
): CompiledTopic[] {
  return topics.map((t) => {
    try {
      return compileQuery(t.id, t.query, vocab, concepts);
    } catch (e) {
      if (e instanceof QuerySyntaxError) throw new QuerySyntaxError(`topic ${t.id}: ${e.message}`);
      throw e;
    }
  });
}

export function forEachLeaf(node: CompiledNode, fn: (leaf: LeafNode) => void): void {
  if (node.kind === 'leaf') fn(node);
  else if (node.kind === 'or') node.children.forEach((c) => forEachLeaf(c, fn));
  else {
    // A reading (see Backoff): every split it may take, with any collection.
    const b = node.backoff;
    (b ? b.splits.flatMap((_, i) => b.parts(i)) : node.positive).forEach((c) => forEachLeaf(c, fn));
    node.negative.forEach((c) => forEachLeaf(c, fn));
  }
}

/** The df keys needed to score an alternative spelling: its stem, or the bigrams and trigrams of a stem sequence. */
export function altKeys(alt: string[]): string[] {
  if (alt.length === 1) return [alt[0]];
  const keys: string[] = [];
  for (let i = 0; i + 1 < alt.length; i++) keys.push(bigramKey(alt[i], alt[i + 1]));
  for (let i = 0; i + 2 < alt.length; i++) keys.push(trigramKey(alt[i], alt[i + 1], alt[i + 2]));
  return keys;
}

/** Keys for the document frequency of a whole pattern read as a phrase: bigrams across slot boundaries. */
export function patternBoundaryKeys(p: Pattern): string[][] {
  const out: string[][] = [];
  for (let i = 0; i + 1 < p.slots.length; i++) {
    const keys: string[] = [];
    for (const a of p.slots[i].alts) for (const b of p.slots[i + 1].alts) keys.push(bigramKey(a[a.length - 1], b[0]));
    out.push(keys);
  }
  return out;
}

/** Keys over slots [start, end) of a pattern: one per combination of their spellings. */
export interface TrigramWindow {
  start: number;
  end: number;
  keys: string[];
}

/**
 * Trigrams that bound how many papers write a pattern as a phrase, beyond its bigrams: across each
 * slot boundary (with the second stem of a spelling of two or more stems on either side) and across
 * each three slots in a row. Each combination of the slots' spellings gets the trigram across it, or
 * the bigram where the spellings have no third stem there; the most frequent key bounds the window,
 * as the most frequent spelling does a slot.
 */
export function patternTrigramWindows(p: Pattern): TrigramWindow[] {
  const out: TrigramWindow[] = [];
  const { slots } = p;
  for (let b = 0; b + 1 < slots.length; b++) {
    const keys: string[] = [];
    for (const a of slots[b].alts) {
      for (const c of slots[b + 1].alts) {
        if (a.length >= 2) keys.push(trigramKey(a[a.length - 2], a[a.length - 1], c[0]));
        else if (c.length >= 2) keys.push(trigramKey(a[0], c[0], c[1]));
        else keys.push(bigramKey(a[0], c[0]));
      }
    }
    out.push({ start: b, end: b + 2, keys });
  }
  for (let i = 0; i + 2 < slots.length; i++) {
    const keys: string[] = [];
    for (const a of slots[i].alts) {
      for (const m of slots[i + 1].alts) {
        for (const c of slots[i + 2].alts) keys.push(trigramKey(a[a.length - 1], m[0], m.length === 1 ? c[0] : m[1]));
      }
    }
    out.push({ start: i, end: i + 3, keys });
  }
  return out;
}

/** Every df key the scorer will ask the statistics for, sorted, without duplicates. */
export function statTerms(topics: CompiledTopic[]): string[] {
  const keys = new Set<string>();
  for (const t of topics) {
    forEachLeaf(t.root, (leaf) => {
      if (leaf.field === 'author') return;
      for (const p of leaf.patterns) {
        for (const s of p.slots) for (const a of s.alts) for (const k of altKeys(a)) keys.add(k);
        for (const ks of patternBoundaryKeys(p)) for (const k of ks) keys.add(k);
        for (const w of patternTrigramWindows(p)) for (const k of w.keys) keys.add(k);
      }
    });
  }
  return [...keys].sort();
}
