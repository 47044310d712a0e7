import porter2 = require('wink-porter2-stemmer');
import nounExceptions = require('wink-lexicon/src/wn-noun-exceptions.js');
import wordNetIndex = require('wink-lexicon/src/wn-words.js');
import wordNetSenses = require('wink-lexicon/src/wn-word-senses.js');
import partsOfSpeech = require('wink-lexicon/src/lexicon.js');
import lemmatize = require('wink-lemmatizer');

/**
 * Text → content tokens. Stop words are dropped and do not take a position, so
 * "learning from human feedback" and "learning with human feedback" line up as the same phrase.
 * A hyphenated compound yields its parts at consecutive positions and also the joined form
 * spanning them ("fine-tuning" → fine, tune, and finetun over both), so "fine tuning",
 * "fine-tuning" and "finetuning" find each other.
 */
export interface Token {
  stem: string;
  start: number;
  /** Inclusive; equals start except for joined compounds. */
  end: number;
  /** Surface form (lower case), for explanations. */
  surface: string;
}

export const STOP_WORDS: ReadonlySet<string> = new Set(
  ('a an the of for in on at to by with from into onto via as and or nor but is are was were be been being ' +
    'this that these those it its we our us they their them he she his her i you your which who whom whose ' +
    'than then so such do does did has have had not no can could may might will would shall should also ' +
    'towards toward about over under between through while whereas where when how what')
    .split(' '),
);

/**
 * Irregular plurals and their singulars, from WordNet's noun exceptions (the wink-lexicon package):
 * "analyses" / "analysis", "matrices" / "matrix", "minima" / "minimum", "criteria" / "criterion",
 * "curricula" / "curriculum". Porter2 only removes regular endings, so these never met.
 */
const IRREGULAR_NOUNS: ReadonlyMap<string, string> = new Map(Object.entries(nounExceptions));

/**
 * A comparative or superlative adjective brought to its base ("smaller" → "small", "larger" →
 * "large", "bigger" → "big", "easier" → "easy", "sparsest" → "sparse"), so that `small language
 * models` finds "smaller language models" and `deep networks` "deeper networks": Porter2 stems
 * only the inflections of nouns and verbs. The base is WordNet's, through its morphology (Morphy,
 * as the wink-lemmatizer package implements it: the exception list, then -er / -est taken off, with
 * or without an e, when what is left is a WordNet adjective). Not when WordNet has the word as a
 * noun or a verb ("layer" is no more "lay" than "number" is "numb", "owner" "own", "lower" "low"),
 * not for a suppletive form ("better" / "good": the words share no stem to meet on), and not when
 * the base is mostly a preposition ("outer" / "out", "nearest" / "near").
 */
export function adjectiveBase(word: string): string {
  if (!/(?:er|est)$/.test(word) || nounOrVerbInWordNet(word)) return word;
  const base = lemmatize.adjective(word);
  if (base === word || !word.startsWith(base.slice(0, -1))) return word;
  const tags = partsOfSpeech[base];
  return Array.isArray(tags) && tags.includes('IN') ? word : base;
}

/**
 * Whether WordNet has the word as a noun or a verb: its senses' lexicographer files 3–43 (0 and 1
 * are adjectives, 2 adverbs, 44 participial adjectives).
 */
function nounOrVerbInWordNet(word: string): boolean {
  const entry = wordNetIndex[word];
  return typeof entry === 'number' && wordNetSenses[entry].some((file) => file >= 3 && file <= 43);
}

const stemCache = new Map<string, string>();

/**
 * One string object per stem, shared by papers and queries, so that the many map lookups of
 * matching compare stems by identity instead of by content.
 */
const interned = new Map<string, string>();
function intern(s: string): string {
  const v = interned.get(s);
  if (v !== undefined) return v;
  if (interned.size > 500_000) interned.clear();
  interned.set(s, s);
  return s;
}

/**
 * normalizeText with the capitals kept: fold accents and ligatures, unify hyphen variants, drop a
 * possessive 's and apostrophes. Lower-casing it gives normalizeText, position for position.
 */
export function normalizeKeepingCase(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2010\u2011\u2012\u2212]/g, '-')
    .replace(/['\u2019][sS]\b/g, '')
    .replace(/['\u2019]/g, '');
}

/** Lower-case, fold accents and ligatures, unify apostrophes and hyphen variants. */
export function normalizeText(text: string): string {
  return normalizeKeepingCase(text).toLowerCase();
}

/**
 * Porter2 merges some words that name different things by stripping a derivational suffix down to
 * a shorter word. Three such steps are undone (the stem keeps a mark of the suffix), so that
 * inflections still meet but these derivations no longer do:
 * - -ize and its derivations from their base: "tokenization", "tokenizer", "tokenized" stay apart
 *   from "token"; "generalization" from "general", "localization" from "local", "optimization" from
 *   "optimal", "initialization" from "initial" and "initiate", "personalization" from "person"
 *   (an agent noun in -izer keeps its own stem: "optimizer");
 * - agent nouns from their action: "transformer" from "transformation", "adapter" from
 *   "adaptation", "operator" from "operation", "encoder" from "encoding", "generator" from
 *   "generation", "controller" from "control" (verbs in -er keep their inflections together:
 *   "consider", "considered");
 * - -ive adjectives from their noun or verb: "contrastive" from "contrast", "generative" from
 *   "generation", "objective" from "object", "positive" from "position".
 * One merge it misses is made: an -ification noun meets its -ify verb ("classification" and
 * "classify", "sparsification" and "sparsified", "certification" and "certified"), which Porter2
 * leaves at "classif" and "classifi"; "specification" then meets "specify" rather than "specific".
 * `word` is the word given to Porter2, `stem` what it returned.
 */
export function keepDerivation(word: string, stem: string): string {
  if (!word.startsWith(stem)) return stem;
  const tail = word.slice(stem.length);
  // Where the base ends in -al, Porter2 may take that off too ("initialization" → "initi", as
  // "initial"; "personalization" → "person").
  const al = tail.startsWith('aliz') ? 'al' : '';
  if (/^(al)?izers?$/.test(tail)) return `${stem}${al}izer`;
  if (tail.startsWith(`${al}iz`)) return `${stem}${al}iz`;
  if (/^er(s|ed|ing)?$/.test(tail)) return `${stem}er`;
  // Porter2 also takes the doubled l of -ller off ("controller" → "control", "modeller" → "model").
  if (stem.endsWith('l') && /^lers?$/.test(tail)) return `${stem}er`;
  if (/^(at)?ors?$/.test(tail)) return stem + (tail.startsWith('at') ? 'ator' : 'or');
  if (/^(at|it)?ive/.test(tail)) return `${stem}iv`;
  if (stem.endsWith('if') && /^ications?$/.test(tail)) return `${stem}i`;
  return stem;
}

/**
 * Porter2 stem (see keepDerivation), with an irregular plural brought to its singular, a comparative
 * or superlative adjective to its base (adjectiveBase), an -anced / -enced / -iced form to its base,
 * and British -isation/-iser/-our spellings to American ones first.
 */
export function stemWord(word: string): string {
  let s = stemCache.get(word);
  if (s !== undefined) return s;
  if (/^[0-9]+$/.test(word) || word.length <= 2) {
    s = word;
  } else if (/^[b-df-hj-np-tv-z0-9]{2,}s$/.test(word)) {
    // Plural of an abbreviation ("llms", "cnns"): Porter2 keeps the s when no vowel precedes it.
    s = word.slice(0, -1);
  } else {
    const american = (IRREGULAR_NOUNS.get(word) ?? adjectiveBase(word))
      // Porter2 takes -ance, -ence and -ice off the base word but not off its -ed / -ing form
      // ("imbalance" → "imbal", "imbalanced" → "imbalanc"): the form is stemmed as its base.
      .replace(/((?:an|en|i)c)(?:ed|ing)$/, '$1e')
      .replace(/isation(s?)$/, 'ization$1')
      .replace(/iser(s?)$/, 'izer$1')
      .replace(/([ilbv])our(s|ed|ing|al|ally)?$/, '$1or$2');
    s = keepDerivation(american, porter2(american));
  }
  s = intern(s);
  if (stemCache.size > 200_000) stemCache.clear();
  stemCache.set(word, s);
  return s;
}

/** [a-z0-9], as a char code. */
function wordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** End of the word found by the last nextWord call. */
let wordEnd = 0;

/**
 * Start of the next word of normalised text at or after `from` (a run of [a-z0-9], with further
 * runs joined by single hyphens), with its end in wordEnd; -1 when none. Found by hand: a regular
 * expression's exec makes a match array per word, a fair part of the garbage of analysing a batch.
 */
function nextWord(text: string, from: number): number {
  const n = text.length;
  let i = from;
  while (i < n && !wordChar(text.charCodeAt(i))) i++;
  if (i >= n) return -1;
  const start = i;
  while (i < n && wordChar(text.charCodeAt(i))) i++;
  while (i + 1 < n && text.charCodeAt(i) === 45 && wordChar(text.charCodeAt(i + 1))) {
    i += 2;
    while (i < n && wordChar(text.charCodeAt(i))) i++;
  }
  wordEnd = i;
  return start;
}

/**
 * Enumeration cues of a content token (see `scanTokens`'s `cue` callback): LIST_BEFORE when a comma
 * or a bare "and" / "or" comes right before it, LIST_AFTER when one comes right after it. A phrase
 * with both is a middle item of a list ("experiments on supervised fine-tuning, direct preference
 * optimization, and continual learning"; "tools (e.g., network pruning and probing)").
 */
export const LIST_BEFORE = 1;
export const LIST_AFTER = 2;
/**
 * A content token separated from the previous content token by more than a space or a hyphen: a
 * stop word ("class of meaning", "computing an optimal") or punctuation ("data, scaling") lies
 * between. A fixed term written as two adjacent words never spans such a gap (see `scanTokens`'s
 * `gap` callback and the matcher's related forms).
 */
export const GAP_BEFORE = 4;
/** With GAP_BEFORE: the gap holds punctuation ("text, images"), not only stop words. */
export const PUNCT_BEFORE = 8;
/**
 * A position in an abstract's opening: the sentences before the first one that speaks of the
 * paper's own work ("we", "our", "us", "this paper / work / study …"; see `scanTokens`' `sentence`
 * callback and `analyzeField`). Abstracts open by setting the scene ("In-context learning is a
 * powerful emergent ability in transformer models."; "It covers pretraining, supervised fine-tuning,
 * and affects the starting conditions for reinforcement learning from human feedback (RLHF).").
 */
export const BACKGROUND = 16;
/**
 * A content position inside parentheses, in a field with enumeration cues (an abstract): "(e.g.,
 * LoRA and adapters)", "(unlike, say, with lottery tickets)", "(LLMs)". Reset at the end of a
 * sentence, so that an unclosed parenthesis does not run on.
 */
export const PARENTHESIZED = 32;
/**
 * The first content position of a sentence after the first (see `scanTokens`' `sentence` callback).
 * A phrase does not run from one sentence into the next: "… the original space. It then models …"
 * holds no "space models", "… as diffusion. Models of …" no "diffusion models".
 */
export const SENTENCE_START = 64;
/**
 * A content position whose word is a noun of action (OPERATION_FORM: a gerund or an -tion, -sion,
 * -ment noun; for a hyphenated compound, its first position too): "pruning networks", "generation
 * of code", not the verb of a clause ("we answer these questions", "to prune networks"), a noun
 * ("models with rewards") or a participle ("pre-trained language models"). See the matcher's
 * head-first spellings. Titles and abstracts alike.
 */
export const NOMINAL = 128;
/** A word that names an operation as a noun: a gerund or an -tion, -sion, -ment noun, singular or plural. */
export const OPERATION_FORM = /(?:ing|tion|sion|ment)s?$/;

/** Words that make a sentence speak of the paper's own work. */
const OWN_WORDS: ReadonlySet<string> = new Set(['we', 'our', 'ours', 'us', 'ourselves']);
/** "this / the present …" + one of these speaks of the paper too. */
const OWN_NOUNS: ReadonlySet<string> = new Set(
  'paper work study article letter note manuscript thesis report survey chapter tutorial'.split(' '),
);
/** A full stop after these words ends an abbreviation, not a sentence ("e.g.", "et al.", "Fig."). */
const ABBREVIATIONS: ReadonlySet<string> = new Set('al vs cf fig figs eq eqs approx resp ref refs sec no'.split(' '));

/** A single letter: "e.g.", "i.e." and initials ("J. Smith") end no sentence; a number may ("in Section 2."). */
function initial(word: string): boolean {
  if (word.length !== 1) return false;
  const c = word.charCodeAt(0);
  return c >= 97 && c <= 122;
}

/** Whether text[from, to) ends a sentence: a full stop, "!" or "?" followed by white space. */
function endsSentence(text: string, from: number, to: number): boolean {
  let stop = false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 33 || c === 63) stop = true;
    else if (stop && (c === 32 || c === 9 || c === 10 || c === 13)) return true;
  }
  return false;
}

function blank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

function hasComma(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 44) return true;
  return false;
}

/** Articles, which may follow the "of" of a linked gap ("dynamics of the training"). */
const ARTICLES = new Set(['the', 'a', 'an']);

/**
 * Scans a field's content tokens, calling `emit` for each: primary tokens (one per position) in
 * order, and joined compounds (spanning several positions) right after their parts. `cue` gets
 * the enumeration cues, `gap` each position that a stop word or punctuation (`punctuation`)
 * separates from the previous content token (inside a hyphenated compound, a dropped stop-word part),
 * and whether the stop words between are "of" and at most an article (`linked`: "rates of
 * convergence", "dynamics of the training").
 * `cue` also gets PARENTHESIZED for each content token inside parentheses.
 * `sentence` gets each sentence as the positions [from, to) and whether it speaks of the paper's
 * own work (see BACKGROUND); a sentence ends at ".", "!" or "?" before white space, except after a
 * single letter ("e.g.", "i.e.", initials; a number does end one) or a common abbreviation ("et al.", "Fig.").
 * Returns the number of positions used.
 */
export function scanTokens(
  text: string,
  firstPosition: number,
  emit: (stem: string, start: number, end: number, surface: string, joined: boolean) => void,
  cue?: (position: number, flags: number) => void,
  gap?: (position: number, punctuation: boolean, linked: boolean) => void,
  sentence?: (from: number, to: number, own: boolean) => void,
): number {
  let pos = firstPosition;
  const norm = normalizeText(text);
  // Where the previous word (stop words included) ended.
  let prevEnd = -1;
  // For enumeration cues: the previous word, and whether it was a content word (then its last
  // content token is at pos - 1).
  let prevWord = '';
  let prevContent = false;
  // For gaps: how many stop words, and whether punctuation, came since the last content token; for
  // linked gaps, whether those stop words are "of" and then articles.
  let stopsSince = 0;
  let punctSince = false;
  let linkedSince = false;
  // For sentences: where the current one starts, whether it speaks of the paper, the previous word.
  let sentenceStart = pos;
  let own = false;
  // For parenthesized positions: how many parentheses are open.
  let depth = 0;
  let lastWord = '';
  let next = 0;
  for (;;) {
    const at = nextWord(norm, next);
    if (at < 0) break;
    next = wordEnd;
    const word = norm.slice(at, next);
    const stop = word.indexOf('-') < 0 && STOP_WORDS.has(word);
    if (sentence || cue) {
      if (prevEnd >= 0 && !initial(lastWord) && !ABBREVIATIONS.has(lastWord) && endsSentence(norm, prevEnd, at)) {
        if (sentence && pos > sentenceStart) sentence(sentenceStart, pos, own);
        sentenceStart = pos;
        own = false;
        depth = 0;
      }
      if (OWN_WORDS.has(word) || (OWN_NOUNS.has(word) && (lastWord === 'this' || lastWord === 'present'))) own = true;
      lastWord = word;
    }
    if (gap) {
      if (prevEnd >= 0 && !blank(norm, prevEnd, at)) punctSince = true;
      if (stop) {
        linkedSince = stopsSince === 0 ? word === 'of' : linkedSince && stopsSince === 1 && ARTICLES.has(word);
        stopsSince++;
      } else {
        if (pos > firstPosition && (stopsSince > 0 || punctSince)) gap(pos, punctSince, linkedSince && !punctSince);
        stopsSince = 0;
        punctSince = false;
        linkedSince = false;
      }
    }
    if (cue) {
      for (let i = prevEnd < 0 ? 0 : prevEnd; i < at; i++) {
        const c = norm.charCodeAt(i);
        if (c === 40) depth++;
        else if (c === 41 && depth > 0) depth--;
      }
      const comma = prevEnd >= 0 && hasComma(norm, prevEnd, at);
      if (prevContent && (comma || word === 'and' || word === 'or')) cue(pos - 1, LIST_AFTER);
      prevContent = !stop;
      if (prevContent && (comma || prevWord === 'and' || prevWord === 'or')) cue(pos, LIST_BEFORE);
      prevWord = word;
    }
    prevEnd = next;
    // Each content position of the word (every part of a compound) is inside the parentheses.
    const parenthesized = cue !== undefined && depth > 0;
    if (word.indexOf('-') < 0) {
      if (stop) continue;
      if (parenthesized) cue(pos, PARENTHESIZED);
      emit(stemWord(word), pos, pos, word, false);
      pos++;
      continue;
    }
    const parts = word.split('-');
    const start = pos;
    let lastStem = '';
    let dropped = false;
    for (const part of parts) {
      if (STOP_WORDS.has(part)) {
        dropped = true;
        continue;
      }
      // "text-to-image": the stop word inside the compound is a gap too.
      if (gap && dropped && pos > start) gap(pos, false, false);
      dropped = false;
      lastStem = stemWord(part);
      if (parenthesized) cue(pos, PARENTHESIZED);
      emit(lastStem, pos, pos, part, false);
      pos++;
    }
    const joinedWord = parts.join('');
    if (joinedWord.length === 0) continue;
    if (pos > start) {
      const stem = stemWord(joinedWord);
      // A joined form equal to its only part adds nothing.
      if (!(pos - start === 1 && lastStem === stem)) emit(stem, start, pos - 1, word, true);
    } else {
      // Every part a stop word ("in-between"): keep the joined form as one token.
      if (parenthesized) cue(pos, PARENTHESIZED);
      emit(stemWord(joinedWord), pos, pos, word, false);
      pos++;
    }
  }
  if (sentence && pos > sentenceStart) sentence(sentenceStart, pos, own);
  return pos - firstPosition;
}

/**
 * On the query side (queries, vocabulary and concept forms): whether a token spanning one position
 * is a hyphenated compound that stop words reduced to one part ("in-context", "on-policy",
 * "over-parameterized"), to be matched by its joined form only. Its remaining part alone
 * ("context", "policy", "parameter") says far less than the compound; papers that write the
 * compound get the joined form too (scanTokens), so "in-context" and "incontext" still match, only
 * the spaced "in context" does not.
 */
export function standsForJoined(surface: string): boolean {
  return surface.includes('-');
}

/**
 * Tokenise a field. Positions count content tokens only. Returns primary tokens (one per position)
 * followed by joined compound tokens (spanning several positions).
 */
export function tokenize(text: string, firstPosition = 0): { tokens: Token[]; length: number } {
  const tokens: Token[] = [];
  const joined: Token[] = [];
  const length = scanTokens(text, firstPosition, (stem, start, end, surface, isJoined) => {
    (isJoined ? joined : tokens).push({ stem, start, end, surface });
  });
  return { tokens: tokens.concat(joined), length };
}
