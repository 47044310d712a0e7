import conceptsFile from './concepts.json';
import vocabularyFile from './vocabulary.json';
import { standsForJoined, tokenize } from './tokenize';

/** One spelling of a concept, as a sequence of stems, with the text to show in explanations. */
export interface VocabForm {
  stems: string[];
  text: string;
}

export interface Vocabulary {
  /** Groups of equivalent forms. */
  groups: VocabForm[][];
  /** first stem → (group, form) pairs whose form starts with that stem. */
  byFirstStem: Map<string, { group: number; form: VocabForm }[]>;
  /** stem → groups with a form of two or more stems containing that stem (for the "more specific" rule). */
  byContainedStem: Map<string, number[]>;
}

/** Stems of a query-side text (a vocabulary or concept form), one per position, as slotsOf reads a query. */
export function primaryStems(text: string): string[] {
  const { tokens, length } = tokenize(text);
  const stems: string[] = new Array(length);
  for (const t of tokens) {
    if (t.start !== t.end) continue;
    // Joined compounds come after the parts, so a compound that stands for its joined form overrides its part.
    if (stems[t.start] === undefined || standsForJoined(t.surface)) stems[t.start] = t.stem;
  }
  return stems;
}

export function buildVocabulary(groups: string[][]): Vocabulary {
  const out: Vocabulary = { groups: [], byFirstStem: new Map(), byContainedStem: new Map() };
  for (const g of groups) {
    const forms: VocabForm[] = [];
    const seen = new Set<string>();
    for (const text of g) {
      const stems = primaryStems(text);
      const key = stems.join(' ');
      if (stems.length === 0 || seen.has(key)) continue;
      seen.add(key);
      forms.push({ stems, text });
    }
    if (forms.length < 2) continue;
    const gi = out.groups.push(forms) - 1;
    for (const form of forms) {
      const list = out.byFirstStem.get(form.stems[0]) ?? [];
      list.push({ group: gi, form });
      out.byFirstStem.set(form.stems[0], list);
      if (form.stems.length >= 2) {
        for (const s of new Set(form.stems)) {
          const l = out.byContainedStem.get(s) ?? [];
          if (!l.includes(gi)) l.push(gi);
          out.byContainedStem.set(s, l);
        }
      }
    }
  }
  return out;
}

/** The groups that hold `stems` as one of their forms (the whole form, not a part of a longer one). */
export function groupsOf(vocab: Vocabulary, stems: readonly string[]): number[] {
  const out: number[] = [];
  for (const { group, form } of vocab.byFirstStem.get(stems[0]) ?? []) {
    if (form.stems.length === stems.length && form.stems.every((s, i) => s === stems[i])) out.push(group);
  }
  return out;
}

let defaultVocabulary: Vocabulary | undefined;

/** The shipped machine-learning vocabulary (vocabulary.json), built once. */
export function getDefaultVocabulary(): Vocabulary {
  defaultVocabulary ??= buildVocabulary(vocabularyFile.groups);
  return defaultVocabulary;
}

/** A broad area and the well-known methods and instances of it (concepts.json). */
export interface ConceptFamily {
  /**
   * The area's names, each interchangeable with the others ("parameter-efficient fine-tuning",
   * "parameter-efficient tuning", "PEFT"): an alert that is one finds the family, and a paper that
   * says another is evidence for it (see relatedRatio in matcher.ts).
   */
  names: VocabForm[];
  /**
   * Other texts an alert may use for the area, broader or neighbouring ("foundation models" for
   * large language models): they find the family, but are not evidence for its names.
   */
  also: VocabForm[];
  /** What a paper may name instead ("LoRA", "prompt tuning"). */
  related: VocabForm[];
}

export interface Concepts {
  families: ConceptFamily[];
  /** Stems of a name, joined by spaces → families with that name. */
  byName: Map<string, number[]>;
}

export function buildConcepts(families: { concept: string[]; also?: string[]; related: string[] }[]): Concepts {
  const out: Concepts = { families: [], byName: new Map() };
  const forms = (texts: string[]): VocabForm[] => {
    const seen = new Set<string>();
    const list: VocabForm[] = [];
    for (const text of texts) {
      const stems = primaryStems(text);
      const key = stems.join(' ');
      // A form left with one word after its stop words go ("in context" → context, "over smoothing"
      // → smoothing) would match far more than it says. Hyphenated, such a form now stands for its
      // joined spelling (standsForJoined), but it stays out as before: the families spell the forms
      // they want solid ("oversmoothing"), which papers' hyphenated spellings also produce.
      const words = text.split(/[\s-]+/).filter(Boolean).length;
      if (stems.length === 0 || (stems.length === 1 && words > 1) || seen.has(key)) continue;
      seen.add(key);
      list.push({ stems, text });
    }
    return list;
  };
  for (const f of families) {
    const names = forms(f.concept);
    const nameKeys = new Set(names.map((n) => n.stems.join(' ')));
    const also = forms(f.also ?? []).filter((a) => !nameKeys.has(a.stems.join(' ')));
    const lookupKeys = new Set([...nameKeys, ...also.map((a) => a.stems.join(' '))]);
    // A related form that is also a name of the family adds nothing.
    const related = forms(f.related).filter((r) => !lookupKeys.has(r.stems.join(' ')));
    if (names.length === 0 || related.length === 0) continue;
    const fi = out.families.push({ names, also, related }) - 1;
    for (const key of lookupKeys) {
      const list = out.byName.get(key) ?? [];
      list.push(fi);
      out.byName.set(key, list);
    }
  }
  return out;
}

let defaultConcepts: Concepts | undefined;

/** The shipped concept families (concepts.json), built once. */
export function getDefaultConcepts(): Concepts {
  defaultConcepts ??= buildConcepts(conceptsFile.families);
  return defaultConcepts;
}
