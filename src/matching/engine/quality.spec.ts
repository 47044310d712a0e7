import { compileTopics, EnginePaper, InMemoryStats, matchPapers } from './index';
import { FILLER } from './spec-fixtures';
import { CollectionStats } from './stats';
import { buildConcepts } from './vocabulary';
import { combinedRatio, PaperBatch, type MatchOptions } from './matcher';
import { Centroid, FeedbackIndex } from './feedback';


let seq = 0;
function paper(title: string, abstract: string): EnginePaper {
  return { id: `Q${String(seq++).padStart(3, '0')}`, title, abstract };
}

function background(n: number): EnginePaper[] {
  return Array.from({ length: n }, (_, i) => paper(`Study ${i} of learning systems`, FILLER[i % FILLER.length]));
}

function run(query: string, papers: EnginePaper[], options: MatchOptions = {}, stats: CollectionStats = InMemoryStats.fromPapers(papers)) {
  const topics = compileTopics([{ id: 't', query }]);
  return matchPapers(topics, papers, stats, options).get('t') ?? [];
}

const ids = (ms: { paperId: string }[]) => ms.map((m) => m.paperId);

describe('concept families (soft evidence)', () => {
  const bg = background(40);
  const verbatim = paper('Parameter-efficient fine-tuning of vision models', 'We study parameter-efficient fine-tuning for image classification.');
  const lora = paper('Better low-rank updates', 'We improve LoRA for large language models and evaluate it on standard benchmarks.');
  const unrelated = paper('Faster sampling', 'We speed up the sampling of generative models on standard benchmarks.');

  it('sends a paper that names a method of the area instead of the area, below a verbatim match', () => {
    const result = run('parameter-efficient fine-tuning', [...bg, verbatim, lora, unrelated]);
    expect(ids(result)).toEqual([verbatim.id, lora.id]);
    expect(result[1].why).toContain('"LoRA" in abstract');
    expect(result[1].why).toContain('related to "parameter-efficient fine-tuning"');
  });

  it('ranks a method of the area named in the title above the query named once in an abstract', () => {
    const titled = paper('Better LoRA for vision models', 'We improve image classification on standard benchmarks.');
    const passing = paper('Faster sampling', 'We compare with parameter-efficient fine-tuning on standard benchmarks.');
    const result = run('parameter-efficient fine-tuning', [...bg, verbatim, titled, passing]);
    expect(ids(result)).toEqual([verbatim.id, titled.id, passing.id]);
    expect(result[1].why).toBe('"LoRA" in title (related to "parameter-efficient fine-tuning")');
  });

  it('does not expand a quoted phrase', () => {
    expect(ids(run('"parameter-efficient fine-tuning"', [...bg, verbatim, lora]))).toEqual([verbatim.id]);
  });

  it('does not widen an exclusion to the related methods', () => {
    const peft = paper('Tuning', 'We evaluate parameter-efficient fine-tuning on standard benchmarks.');
    const result = run('standard benchmarks -(parameter-efficient fine-tuning)', [...bg, peft, lora]);
    expect(ids(result)).toContain(lora.id);
    expect(ids(result)).not.toContain(peft.id);
  });

  it('does not make siblings imply each other', () => {
    const adapters = paper('Adapter layers', 'We add adapter layers to a frozen model and tune prefix tuning baselines.');
    expect(ids(run('LoRA', [...bg, adapters, lora]))).toEqual([lora.id]);
  });

  /** "record linkage" over `papers`, with a family that relates `related` to it. */
  const linkage = (related: string[], papers: EnginePaper[]) => {
    const topics = compileTopics([{ id: 't', query: 'record linkage' }], undefined, buildConcepts([{ concept: ['record linkage'], related }]));
    return matchPapers(topics, papers, InMemoryStats.fromPapers(papers)).get('t') ?? [];
  };
  const linked = paper('Record linkage at scale', 'We study record linkage for census data.');

  it('counts a related form by how specific it is next to the query', () => {
    // "matching" is common in this collection, "entity resolution" as rare as "record linkage".
    const matchingWork = Array.from({ length: 8 }, (_, i) => paper(`Graph study ${i}`, 'We study graph matching on images.'));
    const specific = paper('Faster joins', 'We present an entity resolution algorithm for census data.');
    const generic = paper('Faster joins', 'We present a matching algorithm for census data.');
    const result = linkage(['entity resolution', 'matching'], [...bg, ...matchingWork, linked, specific, generic]);
    expect(ids(result)).toEqual([linked.id, specific.id]);
  });

  it('counts another name of the area when it is at least as specific as the query, and names it', () => {
    // "entity resolution" as rare as "record linkage"; "data matching" more common.
    const family = buildConcepts([{ concept: ['record linkage', 'entity resolution', 'data matching'], related: ['blocking keys'] }]);
    const common = Array.from({ length: 6 }, (_, i) => paper(`Study ${i}`, 'Data matching of sensor readings.'));
    const synonym = paper('Faster joins', 'We present an entity resolution algorithm for census data.');
    const broader = paper('Faster joins', 'We present a data matching algorithm for census data.');
    // The broader name first, then a method: the explanation names what counted.
    const both = paper('Faster joins', 'Data matching: we choose blocking keys for census data.');
    const papers = [...bg, ...common, linked, synonym, broader, both];
    const result = matchPapers(compileTopics([{ id: 't', query: 'record linkage' }], undefined, family), papers, InMemoryStats.fromPapers(papers)).get('t') ?? [];
    expect(ids(result).sort()).toEqual([linked.id, synonym.id, both.id].sort());
    expect(result.find((m) => m.paperId === synonym.id)!.why).toBe('"entity resolution" in abstract (related to "record linkage")');
    expect(result.find((m) => m.paperId === both.id)!.why).toBe('"blocking keys" in abstract (related to "record linkage")');
  });

  it('finds the family, names and methods, through a broader text (also) without taking that text as evidence', () => {
    const family = buildConcepts([{ concept: ['record linkage', 'entity resolution'], also: ['data integration'], related: ['blocking keys'] }]);
    const blocking = paper('Faster joins', 'We choose blocking keys for census data.');
    const integration = paper('Faster joins', 'We present a data integration algorithm for census data.');
    const resolution = paper('Faster joins', 'We present an entity resolution algorithm for census data.');
    const papers = [...bg, linked, blocking, integration, resolution];
    const match = (query: string) => ids(matchPapers(compileTopics([{ id: 't', query }], undefined, family), papers, InMemoryStats.fromPapers(papers)).get('t') ?? []);
    // The broader text finds the family: its methods and its names, which are the area itself.
    expect(match('data integration').sort()).toEqual([integration.id, linked.id, blocking.id, resolution.id].sort());
    // A name of the family takes the other names and the methods as evidence, not the broader text.
    expect(match('record linkage').sort()).toEqual([linked.id, blocking.id, resolution.id].sort());
  });

  it('does not read a related form across a stop word or punctuation', () => {
    const related = ['entity resolution', 'text-to-image', 'graph-to-sequence'];
    const tight = paper('Faster joins', 'We present an entity resolution algorithm for census data.');
    // The same stems, but "entity of resolution" and "text, images" are not the fixed terms.
    const stopWord = paper('Faster joins', 'We measure the entity of resolution for census data.');
    const comma = paper('Faster joins', 'We present an algorithm for census text, images and tables.');
    expect(ids(linkage(related, [...bg, linked, tight, stopWord, comma]))).toEqual([linked.id, tight.id]);
    // A form written with a stop word ("text-to-image") still matches itself and its spaced spelling.
    const hyphen = paper('Faster joins', 'We present a graph-to-sequence algorithm for census data.');
    const spaced = paper('Faster joins', 'We present a graph to sequence algorithm for census data.');
    expect(ids(linkage(related, [...bg, linked, hyphen, spaced]))).toEqual(expect.arrayContaining([hyphen.id, spaced.id]));
  });

  it('does not read a related form across "and" or "or" where the form has another stop word, unless it writes one', () => {
    const related = ['matching from demonstrations', 'blocking and merging'];
    const form = paper('Faster joins', 'We present matching from demonstrations for census data.');
    // "matching and demonstrate" has the stems of "matching from demonstrations" and a stop word
    // where the form has one, but a coordinator joins two phrases: it is no part of the term.
    const joined = paper('Faster joins', 'We compare it to schema matching and demonstrate gains on census data.');
    const either = paper('Faster joins', 'We compare it to schema matching or demonstrations on census data.');
    // A form that writes "and" itself still matches.
    const written = paper('Faster joins', 'We present blocking and merging for census data.');
    expect(ids(linkage(related, [...bg, linked, form, joined, either, written])).sort()).toEqual([linked.id, form.id, written.id].sort());
  });

  it('counts a related form in the abstract\'s opening half: the scene the paper is set in, not what it does', () => {
    // The same sentences; only which comes first differs.
    const opening = paper('Faster joins', 'Entity resolution matters. We present census tools.');
    const own = paper('Faster joins', 'Census matters. We present entity resolution tools.');
    // After the first sentence about the paper's work, an impersonal sentence describes that work.
    const later = paper('Faster joins', 'We present census tools. They do entity resolution.');
    // The query's own words set the scene of the papers about the topic: they count in full anywhere.
    const verbatimOpening = paper('Faster joins', 'Record linkage matters. We present census tools.');
    // No sentence speaks of the paper's own work: no opening can be told from the rest.
    const impersonal = paper('Faster joins', 'Census matters. Entity resolution tools are presented.');
    const result = linkage(['entity resolution'], [...bg, linked, opening, own, later, verbatimOpening, impersonal]);
    expect(ids(result).sort()).toEqual([linked.id, own.id, later.id, verbatimOpening.id, impersonal.id].sort());
    // In the title the form counts in full, whatever the abstract says.
    const titled = paper('Entity resolution for census', 'Census matters. We present census tools.');
    expect(ids(linkage(['entity resolution'], [...bg, linked, opening, titled]))).toEqual([linked.id, titled.id]);
  });

  it('counts another name of the area in the opening in full, as the query\'s own words', () => {
    const family = buildConcepts([{ concept: ['record linkage', 'entity resolution'], related: ['blocking keys'] }]);
    const name = paper('Faster joins', 'Entity resolution matters. We present census tools.');
    const method = paper('Faster joins', 'Blocking keys matter. We present census tools.');
    const papers = [...bg, linked, name, method];
    const result = matchPapers(compileTopics([{ id: 't', query: 'record linkage' }], undefined, family), papers, InMemoryStats.fromPapers(papers)).get('t') ?? [];
    expect(ids(result).sort()).toEqual([linked.id, name.id].sort());
  });

  it('counts a related form in a parenthetical aside half, not the abbreviation of what precedes it', () => {
    const aside = paper('Faster joins', 'Census tools (say entity resolution).');
    const stated = paper('Faster joins', 'Census tools, say entity resolution.');
    // "(ER)" holds nothing but the form: the abbreviation of the words before it, counted in full.
    const defined = paper('Faster joins', 'Census tools for entity resolution (ER).');
    const result = linkage(['entity resolution', 'ER'], [...bg, linked, aside, stated, defined]);
    expect(ids(result).sort()).toEqual([linked.id, stated.id, defined.id].sort());
  });

  it('counts a form and its abbreviation in parentheses right after it as one mention', () => {
    const score = (abstract: string) => {
      const p = paper('Faster joins', abstract);
      return linkage(['entity resolution', 'ER'], [...bg, linked, p]).find((m) => m.paperId === p.id)?.score ?? 0;
    };
    const named = score('Census tools for entity resolution (today).');
    expect(named).toBeGreaterThan(0);
    expect(score('Census tools for entity resolution (ER).')).toBe(named);
    expect(score('Census tools for ER (entity resolution).')).toBe(named);
    // Apart, they are two mentions.
    expect(score('Census tools for entity resolution, or ER.')).toBeGreaterThan(named);
  });

  it('adds up the query\'s words and a related form that shares none of them when each is too weak alone', () => {
    const sent = (related: string[], abstract: string) => {
      const p = paper('Faster joins', abstract);
      return linkage(related, [...bg, linked, p]).find((m) => m.paperId === p.id);
    };
    // One of the query's two words, and a related form in the opening (half): two pieces of evidence.
    expect(sent(['entity resolution'], 'Entity resolution matters. We present linkage tools.')?.why).toBe(
      '"linkage" in abstract; "entity resolution" in abstract (related to "record linkage")',
    );
    expect(sent(['entity resolution'], 'Census matters. We present linkage tools.')).toBeUndefined();
    expect(sent(['entity resolution'], 'Entity resolution matters. We present census tools.')).toBeUndefined();
    // A related form that repeats a query word is no second piece of evidence beside that word.
    expect(sent(['linkage keys'], 'Linkage keys matter. We present linkage tools.')).toBeUndefined();
  });

  it('combines two ratios as the stronger plus half the weaker, and not when the weaker is under a fifth of the threshold', () => {
    expect(combinedRatio(0.3, 0.3)).toBeCloseTo(0.45);
    expect(combinedRatio(0.12, 0.45)).toBeCloseTo(0.51);
    expect(combinedRatio(0.49, 0.05)).toBe(0);
    expect(combinedRatio(0, 0.49)).toBe(0);
  });

  it('finds a related form by the other spellings the vocabulary gives it (abbreviation and expansion)', () => {
    const expansion = paper('Chat models with reinforcement learning from human feedback', 'We study reinforcement learning from human feedback for chat models.');
    const abbreviation = paper('Chat models with RLHF', 'We study RLHF for chat models.');
    const result = run('preference optimization', [...bg, expansion, abbreviation, unrelated]);
    expect(ids(result).sort()).toEqual([expansion.id, abbreviation.id].sort());
    expect(result.find((m) => m.paperId === abbreviation.id)!.why).toBe('"RLHF" in title and abstract (related to "preference optimization")');
  });

  it('finds a related form written with "-based" after its first word', () => {
    const based = paper('Reinforcement learning with preference-based feedback', 'We give an efficient algorithm for bandits.');
    const plain = paper('Reinforcement learning with preference feedback', 'We give an efficient algorithm for bandits.');
    // "-based" elsewhere is no spelling of the form.
    const elsewhere = paper('Reinforcement learning with preference and feedback-based control', 'We give an efficient algorithm for bandits.');
    const result = run('preference optimization', [...bg, based, plain, elsewhere, unrelated]);
    expect(ids(result).sort()).toEqual([based.id, plain.id].sort());
    expect(result.find((m) => m.paperId === based.id)!.why).toBe('"preference-based feedback" in title (related to "preference optimization")');
  });

  it('finds a family through any spelling of the query, and names the query as written', () => {
    const dpo = paper('Direct preference optimization for chat models', 'We study direct preference optimization for chat models.');
    const papers = [...bg, dpo, unrelated];
    // "RLHF" is a text of the preference-optimization family; its expansion finds the family too.
    for (const query of ['RLHF', 'reinforcement learning from human feedback', 'Reinforcement Learning from  Human Feedback']) {
      const result = run(query, papers);
      expect(ids(result)).toEqual([dpo.id]);
      expect(result[0].why).toBe(`"direct preference optimization" in title and abstract (related to "${query.replace(/\s+/g, ' ')}")`);
    }
  });

  it('drops related forms that stop words reduce to one generic word', () => {
    const c = buildConcepts([{ concept: ['area'], related: ['in-context', 'over-smoothing', 'chain-of-thought', 'LoRA'] }]);
    expect(c.families[0].related.map((f) => f.text)).toEqual(['chain-of-thought', 'LoRA']);
  });

  // The shipped families (concepts.json), end to end: an alert for the area finds a paper that names
  // only one of the area's well-known methods (once, in a short abstract), and not one that names
  // neither.
  it.each([
    ['state estimation', 'We assimilate observations with an ensemble Kalman filter.', 'ensemble Kalman filter'],
    ['optimal control', 'We derive a linear quadratic regulator.', 'linear quadratic regulator'],
    ['model editing', 'We scale MEMIT to thousands of facts.', 'MEMIT'],
    ['quantum machine learning', 'We train a parameterized quantum circuit.', 'parameterized quantum circuit'],
    ['combinatorial optimization', 'We learn heuristics for vehicle routing.', 'vehicle routing'],
  ])('finds a method of the area for "%s"', (query, abstract, form) => {
    const method = paper('A new approach', abstract);
    const result = run(query, [...bg, method, unrelated]);
    expect(ids(result)).toEqual([method.id]);
    expect(result[0].why).toContain(`"${form}" in abstract (related to "${query}")`);
  });
});

describe('pseudo-relevance feedback', () => {
  const bg = background(40);
  const confident = [
    paper('Protein folding with residue contact maps', 'Protein folding from amino acid sequences: we predict residue contact maps and tertiary structure.'),
    paper('Fast protein folding', 'We study protein folding and predict residue contact maps from amino acid sequences with a transformer.'),
    paper('Protein folding at scale', 'A protein folding model that uses amino acid sequences, residue contact maps and tertiary structure.'),
  ];
  // Says "protein" but not "protein folding"; otherwise talks like the confident matches.
  const like = paper('Protein contact prediction', 'We predict residue contact maps and tertiary structure of a protein from amino acid sequences.');
  // Says "protein" but talks about something else.
  const unlike = paper('Protein markets', 'We study the price of protein in food markets with a regression on protein survey data.');
  const papers = [...bg, ...confident, like, unlike];

  it('reorders what the query evidence sends and never adds or removes a paper (off by default)', () => {
    const plain = run('protein folding', papers);
    expect(ids(plain).sort()).toEqual(confident.map((p) => p.id).sort());
    expect(run('protein folding', papers, { feedback: false })).toEqual(plain);
    const ranked = run('protein folding', papers, { feedback: true });
    expect(ids(ranked).sort()).toEqual(confident.map((p) => p.id).sort());
  });

  it('ranks a match that talks like the confident matches above an equal one that does not', () => {
    // Same query evidence, same length; the first (lower id) wins the tie without feedback.
    const other = paper('Protein folding', 'Protein folding of food: we study the price of protein in food markets with survey data.');
    const alike = paper('Protein folding', 'Protein folding from sequences: we predict residue contact maps and tertiary structure here.');
    const set = [...bg, ...confident, other, alike];
    const plain = ids(run('protein folding', set, { feedback: false }));
    expect(plain.indexOf(other.id)).toBeLessThan(plain.indexOf(alike.id));
    const ranked = ids(run('protein folding', set, { feedback: true }));
    expect(ranked.indexOf(alike.id)).toBeLessThan(ranked.indexOf(other.id));
  });

  it('admits a paper with partial query evidence that shares the confident matches’ distinctive terms', () => {
    const result = run('protein folding', papers, { feedback: true, feedbackAdmission: true });
    expect(ids(result)).toContain(like.id);
    expect(ids(result)).not.toContain(unlike.id);
    // Below the confident matches.
    expect(ids(result).indexOf(like.id)).toBe(confident.length);
    expect(result.find((m) => m.paperId === like.id)!.why).toContain('like the other matches');
  });

  it('does nothing when a topic has no or only one confident match', () => {
    const one = [...bg, confident[0], like, unlike];
    expect(run('protein folding', one, { feedback: true, feedbackAdmission: true })).toEqual(run('protein folding', one, { feedback: false }));
    const none = [...bg, like, unlike];
    expect(run('protein folding', none, { feedback: true, feedbackAdmission: true })).toEqual(run('protein folding', none, { feedback: false }));
  });

  it('is deterministic and independent of paper order', () => {
    const a = run('protein folding', papers, { feedback: true, feedbackAdmission: true });
    const b = run('protein folding', [...papers].reverse(), { feedback: true, feedbackAdmission: true });
    expect(b).toEqual(a);
  });
});

describe('feedback vectors and centroids', () => {
  // Words of one paper only (df 1: in no vector, but each gets a term id), enough that the run's
  // term arrays grow while the first centroid is built; the members share the words of one subject.
  const words = (i: number) => Array.from({ length: 90 }, (_, j) => `term${i}x${j}`).join(' ');
  const many = Array.from({ length: 40 }, (_, i) =>
    i % 3 === 0
      ? paper(`Protein folding study ${i}`, `Protein folding: residue contact maps, tertiary structure and amino acid sequences. ${words(i)}.`)
      : paper(`Protein markets ${i}`, `Protein prices in food markets from household survey data. ${words(i)}.`),
  );
  const members = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27];
  const describeCentroid = (index: FeedbackIndex, c: Centroid | undefined) =>
    c && { terms: index.termNames(c, 5), weights: Array.from(c.weights), level: c.level, leaveOneOut: Array.from(c.leaveOneOut), sims: Array.from(c.similarities!) };

  it('gives the same centroid whether the vectors were built before or while it is made', () => {
    const docs = new PaperBatch(many).docs;
    const stats = InMemoryStats.fromPapers(many);
    const lazy = new FeedbackIndex(docs, stats);
    const lazyCentroid = describeCentroid(lazy, lazy.centroid(members, new Set(['protein', 'fold']), members));
    const eager = new FeedbackIndex(docs, stats);
    for (let d = docs.length - 1; d >= 0; d--) eager.vector(d);
    const eagerCentroid = describeCentroid(eager, eager.centroid(members, new Set(['protein', 'fold']), members));
    expect(lazyCentroid).toBeDefined();
    expect(lazyCentroid!.terms.length).toBeGreaterThan(0);
    expect(lazyCentroid).toEqual(eagerCentroid);
  });

  it('leaves out every term that contains a query stem, bigrams included', () => {
    const index = new FeedbackIndex(new PaperBatch(many).docs, InMemoryStats.fromPapers(many));
    const has = (terms: string[], stem: string) => terms.some((t) => t.split(' ').includes(stem));
    expect(has(index.termNames(index.centroid(members, new Set())!, 5), 'fold')).toBe(true);
    const c = index.centroid(members, new Set(['fold']))!;
    expect(c.ids.length).toBeGreaterThan(0);
    expect(has(index.termNames(c, c.ids.length), 'fold')).toBe(false);
  });

  it('a batch keeps its feedback vectors per statistics object, and makes new ones when the statistics grew', () => {
    const batch = new PaperBatch(many);
    const stats = InMemoryStats.fromPapers(many);
    const first = batch.feedbackIndex(stats);
    expect(batch.feedbackIndex(stats)).toBe(first);
    expect(batch.feedbackIndex(InMemoryStats.fromPapers(many))).not.toBe(first);
    stats.add(paper('Maps', 'Residue contact maps of sequences.'));
    const grown = batch.feedbackIndex(stats);
    expect(grown).not.toBe(first);
    expect(batch.feedbackIndex(stats)).toBe(grown);
  });
});

describe('statistics are never served stale across runs', () => {
  const digest = [
    paper('Diffusion models for audio', 'We train diffusion models on speech and music.'),
    paper('Sampling', 'A faster sampler for diffusion models with fewer steps.'),
    paper('Graphs', 'We study diffusion on graphs and heat kernels for node classification.'),
  ];
  const queries = [
    { id: 'phrase', query: 'diffusion models' },
    { id: 'word', query: 'diffusion' },
    { id: 'kernels', query: 'heat kernels' },
  ];

  /** Stats that only know document frequencies (as the database-backed ones do). */
  function counts(docCount: number, df: Record<string, number>): CollectionStats {
    return { docCount, avgTitleLength: 3, avgAbstractLength: 8, df: (t) => df[t] ?? 0 };
  }

  it('matching with stats A then stats B gives what B alone gives', () => {
    const topics = compileTopics(queries);
    // A: "diffusion" almost always means diffusion models. B: it rarely does, and "heat kernels" is common.
    const a = counts(1000, { diffus: 100, model: 600, 'diffus model': 95, heat: 3, kernel: 40, 'heat kernel': 2 });
    const b = counts(1000, { diffus: 400, model: 600, 'diffus model': 20, heat: 300, kernel: 320, 'heat kernel': 290 });
    for (const options of [{}, { feedback: true, feedbackAdmission: true }]) {
      const onlyB = matchPapers(compileTopics(queries), digest, b, options);
      matchPapers(topics, digest, a, options);
      const afterA = matchPapers(topics, digest, b, options);
      expect(afterA).toEqual(onlyB);
      // And the two statistics really do score differently.
      expect(matchPapers(topics, digest, a, options)).not.toEqual(onlyB);
    }
  });

  it('sees a statistics object that changed between runs', () => {
    const topics = compileTopics(queries);
    const stats = InMemoryStats.fromPapers(digest);
    const before = matchPapers(topics, digest, stats);
    for (let i = 0; i < 30; i++) stats.add(paper(`Heat kernels ${i}`, 'Diffusion on manifolds with heat kernels.'));
    const after = matchPapers(topics, digest, stats);
    const fresh = matchPapers(compileTopics(queries), digest, InMemoryStats.fromPapers([...digest, ...Array.from({ length: 30 }, (_, i) => paper(`Heat kernels ${i}`, 'Diffusion on manifolds with heat kernels.'))]));
    expect(after).toEqual(fresh);
    expect(after).not.toEqual(before);
  });
});
