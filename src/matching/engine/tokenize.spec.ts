import { analyzeField, analyzePaper } from './analyze';
import { BACKGROUND, GAP_BEFORE, LIST_AFTER, LIST_BEFORE, PARENTHESIZED, PUNCT_BEFORE, scanTokens, stemWord, tokenize } from './tokenize';

const stems = (text: string) => tokenize(text).tokens.map((t) => (t.start === t.end ? t.stem : `${t.stem}@${t.start}-${t.end}`));
/** The pairs of words that stem apart, and those that stem alike (each test expects one list empty). */
const stemApart = (pairs: string[][]) => pairs.filter(([a, b]) => stemWord(a) !== stemWord(b));
const stemAlike = (pairs: string[][]) => pairs.filter(([a, b]) => stemWord(a) === stemWord(b));

describe('tokenize', () => {
  it('lower-cases, folds accents and drops punctuation and stop words', () => {
    expect(stems('The Schrödinger Bridge, revisited!')).toEqual(['schrodinger', 'bridg', 'revisit']);
  });

  it('stems inflections to one form', () => {
    expect(stemWord('adaptations')).toBe(stemWord('adaptation'));
    expect(stemWord('pruning')).toBe(stemWord('pruned'));
    expect(stemWord('models')).toBe(stemWord('model'));
    // Porter2 alone stems "imbalance" to "imbal" and "imbalanced" to "imbalanc".
    const same = (words: string[]) => new Set(words.map(stemWord)).size;
    expect(same(['imbalance', 'imbalances', 'imbalanced'])).toBe(1);
    expect(same(['experience', 'experienced', 'experiencing'])).toBe(1);
    expect(same(['sacrifice', 'sacrificed', 'sacrificing'])).toBe(1);
    expect(same(['balance', 'balanced', 'balancing'])).toBe(1);
  });

  it('brings irregular plurals to their singular (WordNet\'s noun exceptions)', () => {
    expect(
      stemApart([
        ['analyses', 'analysis'],
        ['hypotheses', 'hypothesis'],
        ['matrices', 'matrix'],
        ['vertices', 'vertex'],
        ['minima', 'minimum'],
        ['criteria', 'criterion'],
        ['phenomena', 'phenomenon'],
        ['curricula', 'curriculum'],
        ['corpora', 'corpus'],
      ]),
    ).toEqual([]);
    // A word that only ends like one is left to Porter2.
    expect(stemWord('bias')).toBe(stemWord('biases'));
    expect(stemWord('constructor')).toBe('constructor');
  });

  it('brings comparative and superlative adjectives to their base (WordNet\'s morphology)', () => {
    expect(
      stemApart([
        ['smaller', 'small'],
        ['smallest', 'small'],
        ['larger', 'large'],
        ['bigger', 'big'],
        ['easier', 'easy'],
        ['deeper', 'deep'],
        ['wider', 'wide'],
        ['sparser', 'sparse'],
        ['fewer', 'few'],
      ]),
    ).toEqual([]);
    // Not a noun or verb that ends like one, a suppletive form, or a preposition's comparative.
    expect(
      stemAlike([
        ['layer', 'lay'],
        ['number', 'numb'],
        ['owner', 'own'],
        ['lower', 'low'],
        ['better', 'good'],
        ['outer', 'out'],
        ['transformer', 'transform'],
      ]),
    ).toEqual([]);
  });

  it('keeps inflections together but not the derivations Porter2 merges into another word', () => {
    const same = (words: string[]) => new Set(words.map(stemWord)).size;
    // Inflections still meet.
    expect(same(['tokenization', 'tokenizations'])).toBe(1);
    expect(same(['tokenize', 'tokenized', 'tokenizing', 'tokenization'])).toBe(1);
    expect(same(['initialize', 'initialized', 'initialization', 'initializations'])).toBe(1);
    expect(same(['personalized', 'personalization'])).toBe(1);
    expect(same(['transformer', 'transformers'])).toBe(1);
    expect(same(['consider', 'considers', 'considered', 'considering'])).toBe(1);
    expect(same(['operator', 'operators'])).toBe(1);
    expect(same(['controller', 'controllers'])).toBe(1);
    expect(same(['modeler', 'modeller', 'modelers'])).toBe(1);
    expect(same(['generative', 'generatively'])).toBe(1);
    expect(same(['transform', 'transformed', 'transforming', 'transformation'])).toBe(1);
    // An -ification noun meets its -ify verb, which Porter2 leaves apart.
    expect(same(['classify', 'classified', 'classifies', 'classification', 'classifications'])).toBe(1);
    expect(same(['sparsify', 'sparsified', 'sparsification'])).toBe(1);
    expect(same(['specify', 'specification'])).toBe(1);
    // Derivations that name something else do not.
    expect(
      stemAlike([
        ['tokenization', 'token'],
        ['generalization', 'general'],
        ['localization', 'local'],
        ['optimization', 'optimal'],
        ['optimizer', 'optimization'],
        ['initialization', 'initial'],
        ['initialized', 'initiated'],
        ['personalization', 'person'],
        ['transformer', 'transformation'],
        ['adapter', 'adaptation'],
        ['operator', 'operation'],
        ['encoder', 'encoding'],
        ['generator', 'generation'],
        ['controller', 'controlled'],
        ['modeller', 'model'],
        ['discriminator', 'discriminative'],
        ['contrastive', 'contrast'],
        ['generative', 'generation'],
        ['objective', 'object'],
        ['positive', 'position'],
        ['specification', 'specific'],
        ['classification', 'classifier'],
      ]),
    ).toEqual([]);
    // Words that only look like it are left alone.
    expect(stemWord('size')).toBe('size');
    expect(stemWord('application')).toBe(stemWord('applications'));
    expect(stemWord('authentication')).toBe(stemWord('authenticate'));
    expect(stemWord('layers')).toBe(stemWord('layer'));
  });

  it('brings British spellings to American ones', () => {
    expect(stemWord('optimisation')).toBe(stemWord('optimization'));
    expect(stemWord('behaviour')).toBe(stemWord('behavior'));
  });

  it('strips the plural of abbreviations', () => {
    expect(stemWord('llms')).toBe('llm');
    expect(stemWord('cnns')).toBe('cnn');
  });

  it('splits hyphenated compounds and also keeps the joined form over both parts', () => {
    expect(stems('fine-tuning')).toEqual(['fine', 'tune', 'finetun@0-1']);
    expect(stems('in-context learning')).toEqual(['context', 'learn', 'incontext']);
  });

  it('numbers positions by content words only', () => {
    const { tokens, length } = tokenize('learning from human feedback');
    expect(length).toBe(3);
    expect(tokens.map((t) => t.start)).toEqual([0, 1, 2]);
  });

  it('marks the content tokens right after and right before a comma, "and" or "or" (enumeration cues)', () => {
    const cues = new Map<number, number>();
    scanTokens('We compare quantization, tensor sketching, and the distillation of models.', 0, () => undefined, (p, f) => cues.set(p, (cues.get(p) ?? 0) | f));
    // positions: compar 0, quantiz 1, tensor 2, sketch 3, distil 4, model 5 ("and", "the", "of" are stop words)
    expect(cues.get(1)).toBe(LIST_AFTER);
    expect(cues.get(2)).toBe(LIST_BEFORE);
    expect(cues.get(3)).toBe(LIST_AFTER);
    // "and the distillation": a stop word between, so no cue on distillation.
    expect(cues.get(4)).toBeUndefined();
    expect(cues.get(0)).toBeUndefined();
  });

  it('marks the content tokens that a stop word or punctuation separates from the previous one (gaps)', () => {
    const gaps: [number, boolean][] = [];
    scanTokens('A class of meaning-preserving choices: text, images and data scaling, text-to-image.', 0, () => undefined, undefined, (p, punct) => gaps.push([p, punct]));
    // positions: class 0, mean 1, preserv 2, choic 3, text 4, imag 5, data 6, scale 7, text 8, imag 9
    expect(gaps).toEqual([[1, false], [4, true], [5, true], [6, false], [8, true], [9, false]]);
    // Linked: "of" and at most an article between ("rates of convergence", "rates of the convergence").
    const linked: number[] = [];
    scanTokens('Rates of convergence, rates of the convergence, rates of these convergence, rates in convergence, rates of, convergence.', 0, () => undefined, undefined, (p, _punct, isLinked) => isLinked && linked.push(p));
    // positions: rate 0, converg 1, rate 2, converg 3, rate 4, converg 5, rate 6, converg 7, rate 8, converg 9
    expect(linked).toEqual([1, 3]);
    expect(GAP_BEFORE & (LIST_BEFORE | LIST_AFTER)).toBe(0);
  });

  it('reports sentences with whether they speak of the paper\'s own work, not ending one at "e.g." or "et al."', () => {
    const sentences: [number, number, boolean][] = [];
    scanTokens(
      'Pruning (e.g. magnitude pruning) is common, as Han et al. showed. In this paper, sparse models are trained! Why? Our method wins. 0.5 GB suffice.',
      0,
      () => undefined,
      undefined,
      undefined,
      (from, to, own) => sentences.push([from, to, own]),
    );
    // positions: prune 0, e 1, g 2, magnitud 3, prune 4, common 5, han 6, et 7, al 8, show 9 | paper 10,
    // spars 11, model 12, train 13 | why 14 | method 15, win 16 | 0 17, 5 18, gb 19, suffic 20
    expect(sentences).toEqual([[0, 10, false], [10, 14, true], [14, 15, false], [15, 17, true], [17, 21, false]]);
  });

  it('marks the positions of an abstract\'s opening, before its first sentence about the paper\'s own work, as BACKGROUND', () => {
    const f = analyzeField('Pruning is common. Sparse models are small. We prune weights. Sparse models win.');
    // positions: prune 0, common 1 | spars 2, model 3, small 4 | prune 5, weight 6 | spars 7, model 8, win 9
    const marked = Array.from({ length: f.length }, (_, i) => ((f.cues?.[i] ?? 0) & BACKGROUND) !== 0);
    expect(marked).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(BACKGROUND & (GAP_BEFORE | PUNCT_BEFORE | LIST_BEFORE | LIST_AFTER)).toBe(0);
    // No sentence about the paper's own work: nothing can be told apart, nothing is marked.
    const background = (cues: Uint8Array | undefined) => (cues ?? []).some((c) => (c & BACKGROUND) !== 0);
    expect(background(analyzeField('Pruning is common. Sparse models are small.').cues)).toBe(false);
    // Titles are what the paper is about: never marked.
    const p = analyzePaper({ id: 'x', title: 'Pruning is common. We prune.', abstract: '' });
    expect(background(p.title.cues)).toBe(false);
    expect(background(analyzePaper({ id: 'y', title: '', abstract: 'Pruning is common. We prune.' }).abstract.cues)).toBe(true);
  });

  it('marks the content tokens inside parentheses, closing any left open at the end of a sentence', () => {
    const inside: number[] = [];
    scanTokens('Sparse models (e.g., pruned (twice) low-rank nets) win (see Fig. 2. Dense models lose.', 0, () => undefined, (p, f) => {
      if (f & PARENTHESIZED) inside.push(p);
    });
    // positions: spars 0, model 1, e 2, g 3, prune 4, twice 5, low 6, rank 7, net 8, win 9, see 10, fig 11,
    // 2 12 | dens 13, model 14, lose 15 (and the joined "lowrank" over 6-7)
    expect(inside).toEqual([2, 3, 4, 5, 6, 7, 8, 10, 11, 12]);
    expect(PARENTHESIZED & (BACKGROUND | GAP_BEFORE | PUNCT_BEFORE | LIST_BEFORE | LIST_AFTER)).toBe(0);
  });
});
