import { compileTopics, EnginePaper, InMemoryStats, matchPapers, PaperBatch, statTerms, documentTerms, matchBatch } from './index';
import { FILLER } from './spec-fixtures';


let seq = 0;
function paper(title: string, abstract: string, extra: Partial<EnginePaper> = {}): EnginePaper {
  return { id: `P${String(seq++).padStart(3, '0')}`, title, abstract, ...extra };
}

function background(n: number): EnginePaper[] {
  return Array.from({ length: n }, (_, i) => paper(`Study ${i} of learning systems`, FILLER[i % FILLER.length]));
}

function run(query: string, papers: EnginePaper[], statsPapers: EnginePaper[] = papers) {
  const topics = compileTopics([{ id: 't', query }]);
  return matchPapers(topics, papers, InMemoryStats.fromPapers(statsPapers)).get('t') ?? [];
}

const ids = (ms: { paperId: string }[]) => ms.map((m) => m.paperId);

describe('matching engine', () => {
  const bg = background(40);
  /** The match of one paper with this abstract among the background papers, if it is sent. */
  const sent = (query: string, abstract: string) => {
    const p = paper('Faster systems', abstract);
    return run(query, [...bg, p]).find((m) => m.paperId === p.id);
  };

  it('ranks a title match above an abstract-only match', () => {
    const inTitle = paper('Guidance for diffusion models', 'We improve sampling quality with a simple change.');
    const inAbstract = paper('Better sampling', 'We improve the sampling of diffusion models with a simple change.');
    const result = run('diffusion models', [...bg, inAbstract, inTitle]);
    expect(ids(result)).toEqual([inTitle.id, inAbstract.id]);
    expect(result[0].why).toContain('in title');
  });

  it('ranks the phrase above the same words scattered', () => {
    const phrase = paper('Sampling methods', 'We study scaling laws of transformers trained with various budgets.');
    const scattered = paper('Sampling methods', 'We study scaling of transformers; conservation laws are trained with various budgets.');
    const result = run('scaling laws', [...bg, scattered, phrase]);
    expect(result[0].paperId).toBe(phrase.id);
    expect(result[0].why).toBe('phrase "scaling laws" in abstract');
    const scatteredScore = result.find((m) => m.paperId === scattered.id)?.score ?? 0;
    expect(result[0].score).toBeGreaterThan(scatteredScore);
  });

  it('does not send papers that only share the generic word of a multi-word alert', () => {
    const onTopic = paper('Diffusion models for audio', 'We train diffusion models on speech.');
    expect(bg.filter((p) => /models/.test(p.abstract)).length).toBeGreaterThan(10);
    expect(ids(run('diffusion models', [...bg, onTopic]))).toEqual([onTopic.id]);
  });

  it('drops papers holding an excluded word or phrase', () => {
    const keep = paper('Network pruning at scale', 'We prune convolutional networks.');
    const dropWord = paper('Network pruning for speech', 'We prune networks for audio models.');
    const dropPhrase = paper('Network pruning', 'We prune large language models after training.');
    const papers = [...bg, keep, dropWord, dropPhrase];
    expect(ids(run('network pruning', papers))).toEqual(expect.arrayContaining([keep.id, dropWord.id, dropPhrase.id]));
    expect(ids(run('network pruning -audio', papers))).not.toContain(dropWord.id);
    expect(ids(run('network pruning -"language models"', papers))).not.toContain(dropPhrase.id);
    // An excluded phrase only excludes the phrase, not its words apart.
    const apart = paper('Network pruning', 'We prune models of language and vision.');
    expect(ids(run('network pruning -"language models"', [...papers, apart]))).toContain(apart.id);
    // Exclusions also catch abbreviations of what they name.
    const abbreviated = paper('Network pruning for LLMs', 'We prune networks.');
    expect(ids(run('network pruning -"large language models"', [...papers, abbreviated]))).not.toContain(abbreviated.id);
  });

  it('ignores case, punctuation, hyphenation and inflection', () => {
    const a = paper('Test-Time Adaptation under shift', 'A method.');
    const b = paper('On test time adaptations', 'Another method.');
    const c = paper('TESTTIME ADAPTATION!', 'A third method.');
    const result = run('test-time adaptation', [...bg, a, b, c]);
    expect(ids(result).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(ids(run('test time adaptations', [...bg, a, b]))).toEqual(expect.arrayContaining([a.id, b.id]));
    // An adjective's comparative is an inflection too.
    const smaller = paper('Specializing smaller language models towards reasoning', 'We distill.');
    const small = paper('Small language models can reason', 'We distill.');
    expect(ids(run('small language models', [...bg, smaller, small])).sort()).toEqual([smaller.id, small.id].sort());
  });

  it('matches fine-tuning, finetuning and fine tuning', () => {
    const a = paper('Efficient fine-tuning', 'We adapt models.');
    const b = paper('Efficient finetuning', 'We adapt models.');
    const c = paper('Efficient fine tuning', 'We adapt models.');
    for (const q of ['fine-tuning', 'finetuning', 'fine tuning']) {
      expect(ids(run(q, [...bg, a, b, c])).sort()).toEqual([a.id, b.id, c.id].sort());
    }
  });

  it('finds abbreviations from their expansion and expansions from their abbreviation', () => {
    const abbr = paper('Agents built on LLMs', 'We evaluate tool use.');
    const full = paper('Agents built on large language models', 'We evaluate tool use.');
    expect(ids(run('large language models', [...bg, abbr, full])).sort()).toEqual([abbr.id, full.id].sort());
    expect(ids(run('LLM', [...bg, abbr, full])).sort()).toEqual([abbr.id, full.id].sort());
    const rl = paper('Offline RL with world models', 'We study model-based RL.');
    expect(ids(run('reinforcement learning', [...bg, rl]))).toEqual([rl.id]);
    expect(run('model-based reinforcement learning', [...bg, rl])[0]?.why).toContain('model-based RL');
  });

  it('finds a word through its short form inside a phrase (math / mathematical, which stem apart)', () => {
    const short = paper('Smaller models for multi-step math reasoning', 'We distil math reasoning into small models.');
    const full = paper('Mathematical reasoning of language models', 'We study mathematical reasoning.');
    expect(ids(run('mathematical reasoning', [...bg, short, full])).sort()).toEqual([short.id, full.id].sort());
    expect(ids(run('math reasoning', [...bg, short, full])).sort()).toEqual([short.id, full.id].sort());
  });

  it('counts the abbreviation of a more specific concept as the general one', () => {
    const dpo = paper('Aligning chat models with DPO', 'We study DPO variants for alignment.');
    expect(ids(run('preference optimization', [...bg, dpo]))).toEqual([dpo.id]);
  });

  it('restricts title: and abstract: to their field', () => {
    const t = paper('Pruning transformers', 'We study efficiency.');
    const a = paper('Efficient transformers', 'We study pruning.');
    expect(ids(run('title:pruning', [...bg, t, a]))).toEqual([t.id]);
    expect(ids(run('abstract:pruning', [...bg, t, a]))).toEqual([a.id]);
  });

  it('matches author: against author names only', () => {
    const byHer = paper('Graph networks', 'We study message passing.', { authors: ['Ada Lovelace', 'Alan Turing'] });
    const aboutHer = paper('Lovelace and the engine', 'A historical note on computing.', { authors: ['Charles Babbage'] });
    expect(ids(run('author:lovelace', [...bg, byHer, aboutHer]))).toEqual([byHer.id]);
    expect(ids(run('author:"ada lovelace"', [...bg, byHer, aboutHer]))).toEqual([byHer.id]);
    // A name split across two authors is not that name.
    expect(ids(run('author:"lovelace alan"', [...bg, byHer]))).toEqual([]);
  });

  it('evaluates OR and parentheses', () => {
    const protein = paper('Protein transformers', 'We study attention.');
    const molecule = paper('Molecule transformers', 'We study attention.');
    const audio = paper('Audio transformers', 'We study attention.');
    const proteinOnly = paper('Protein folding', 'We study structure.');
    const papers = [...bg, protein, molecule, audio, proteinOnly];
    expect(ids(run('(protein OR molecule) transformers', papers)).sort()).toEqual([protein.id, molecule.id].sort());
    expect(ids(run('protein OR molecule', papers)).sort()).toEqual([protein.id, molecule.id, proteinOnly.id].sort());
  });

  it('requires a quoted phrase to appear as a phrase', () => {
    const phrase = paper('Neural collapse in practice', 'Last-layer features.');
    const apart = paper('Collapse of neural features', 'Neural networks and collapse.');
    expect(ids(run('"neural collapse"', [...bg, phrase, apart]))).toEqual([phrase.id]);
  });

  it('reads no phrase across the end of a sentence', () => {
    // The words meet only across a full stop (the stop words between take no position).
    const across = paper('Core spaces', 'We keep the structure of the original space. It then models the changes.');
    const inside = paper('Sequence models', 'We train deep state space models on long inputs.');
    const users = [0, 1].map((i) => paper(`Structured state space models ${i}`, 'Linear recurrences for long sequences.'));
    expect(ids(run('"space models"', [...bg, across, inside]))).toEqual([inside.id]);
    // Nor as the sub-phrase of a longer phrase, nor as the words of a vocabulary or related form.
    expect(ids(run('state space models', [...bg, across, inside, ...users]))).not.toContain(across.id);
    const spelled = paper('Agents', 'Agents act by reinforcement learning.');
    const split = paper('Agents', 'Agents act by reinforcement. Learning is slow.');
    expect(ids(run('RL', [...bg, spelled, split]))).toEqual([spelled.id]);
  });

  it('reads words joined by a preposition as the whole phrase or its terms anywhere', () => {
    const whole = paper('Scaling laws for language models', 'We fit power laws to loss curves.');
    const apart = paper('Training compute-optimal language models', 'We revisit scaling laws. Budgets matter.');
    const oneTerm = paper('Scaling laws for vision', 'We fit power laws to image classifiers.');
    const otherTerm = paper('Language models as agents', 'We prompt language models to act.');
    const papers = [...bg, whole, apart, oneTerm, otherTerm];
    const result = ids(run('scaling laws for language models', papers));
    expect(result.sort()).toEqual([whole.id, apart.id].sort());
    // Two terms that rest on one abbreviation explain it once.
    const rlhf = paper('RLHF at scale', 'We study RLHF.');
    expect(run('reinforcement learning from human feedback', [...bg, rlhf])[0].why).toBe('"RLHF" in title and abstract');
    // Quoted, it is one phrase.
    expect(ids(run('"scaling laws for language models"', papers))).toEqual([whole.id]);
    // Single words joined by a preposition stay one phrase: "mixture of experts" is no "mixture" AND "experts".
    expect(compileTopics([{ id: 'm', query: 'mixture of experts' }])[0].root.kind).toBe('leaf');
    expect(compileTopics([{ id: 'm', query: 'learning to rank' }])[0].root.kind).toBe('leaf');
    // A one-word term with a longer one is a term of its own.
    const reasoning = paper('Multi-step reasoning in small models', 'We distill chains of thought from large language models.');
    const noReasoning = paper('Large language models at scale', 'We train large language models on more data.');
    expect(ids(run('reasoning in large language models', [...bg, reasoning, noReasoning]))).toEqual([reasoning.id]);
    // A hyphenated compound is a term of two words: "self-training" AND "pseudo-labels".
    const both = paper('Self-training for segmentation', 'A momentum teacher on labelled images predicts masks; the student then learns from its pseudo-labels.');
    const one = paper('Self-training for segmentation', 'A momentum teacher on labelled images predicts masks for the student.');
    expect(ids(run('self-training with pseudo-labels', [...bg, both, one]))).toEqual([both.id]);
  });

  it('reads two phrases coordinated with "and" as either, sharing the words they share', () => {
    const privacy = paper('Privacy attacks on LLMs', 'We extract training data from LLMs and measure the privacy risk.');
    const security = paper('LLM security audits', 'We audit the security of LLMs deployed in production.');
    const other = paper('Privacy in federated learning', 'We add noise to client updates to protect privacy.');
    expect(ids(run('LLM security and privacy', [...bg, privacy, security, other])).sort()).toEqual([privacy.id, security.id].sort());
    const video = paper('Video generation with transformers', 'We generate long videos from text prompts.');
    expect(ids(run('image and video generation', [...bg, video]))).toEqual([video.id]);
    const motion = paper('3D human motion generation', 'We generate 3D human motion from text.');
    expect(ids(run('3D human pose and motion', [...bg, motion]))).toEqual([motion.id]);
    // Not when the words without "and" spell one term: vision and language models are vision-language models.
    const vision = paper('Scaling vision models', 'We train larger vision models on more images.');
    expect(run('vision and language models', [...bg, vision])).toEqual([]);
    // Nor in an exclusion, nor quoted.
    expect(ids(run('LLMs -"security and privacy"', [...bg, privacy, security]))).toEqual(ids(run('LLMs', [...bg, privacy, security])));
  });

  it('requires only the area of "machine learning for X": every paper of the collection is machine learning', () => {
    const weather = paper('A foundation model for weather forecasting', 'We pretrain a transformer on reanalysis data and forecast the weather.');
    const other = paper('Machine learning for vision', 'We train classifiers on images.');
    expect(ids(run('machine learning for weather forecasting', [...bg, weather, other]))).toEqual([weather.id]);
    expect(ids(run('deep learning in weather forecasting', [...bg, weather, other]))).toEqual([weather.id]);
    expect(ids(run('ML for weather forecasting', [...bg, weather, other]))).toEqual([weather.id]);
    // The field named second, or joined otherwise, stays a term: "theory of deep learning" is no "theory".
    const theory = paper('A theory of attention', 'We prove that attention layers generalize.');
    expect(run('theory of deep learning', [...bg, theory])).toEqual([]);
    expect(run('weather forecasting with deep learning', [...bg, weather])).toEqual([]);
  });

  it('reads a phrase that no paper writes as a known term it starts or ends with and the rest', () => {
    const apart = paper('Faster training', 'Adaptive optimizers such as Adam train deep learning models faster.');
    const termOnly = paper('Deep learning for chemistry', 'Deep learning predicts molecular properties.');
    const restOnly = paper('Optimizers for convex problems', 'Classical optimizers solve convex programs.');
    const papers = [...bg, apart, termOnly, restOnly];
    const found = run('deep learning optimizers', papers);
    expect(ids(found)).toEqual([apart.id]);
    expect(found[0].why).toBe('phrase "deep learning" in abstract; "optimizers" in abstract; "Adam" in abstract (related to "optimizers")');
    // The term may also end the phrase.
    const steer = paper('Inference-time control', 'Steering vectors added to activations change what language models say.');
    expect(ids(run('steering language models', [...bg, steer, termOnly]))).toEqual([steer.id]);
    // Every adjacent pair written somewhere ("meta learning optimizers") is not the phrase written.
    const pairs = paper('Learned optimizers', 'Meta learning optimizers from data.');
    expect(ids(run('deep learning optimizers', [...papers, pairs]))).toContain(apart.id);
    // Of a start and an end as long, both written, the term is the one more papers write.
    const approximation = [0, 1, 2].map((i) => paper(`Value estimation ${i}`, 'We study function approximation for value estimation.'));
    const linearFunction = paper('Linear readouts', 'The output is a linear function of the features.');
    const bandit = paper('Bandit regret', 'Regret bounds with function approximation under linear rewards.');
    const common = [0, 1, 2, 3, 4, 5].flatMap((i) => [
      paper(`Linear probes ${i}`, 'Linear regression of prices.'),
      paper(`Loss design ${i}`, 'A loss function for ranking.'),
      paper(`Bounds ${i}`, 'An approximation of the posterior.'),
    ]);
    const byTerm = run('linear function approximation', [...bg, ...common, ...approximation, linearFunction, bandit]);
    expect(ids(byTerm)).toEqual([bandit.id]);
    expect(byTerm[0].why).toBe('phrase "function approximation" in abstract; "linear" in abstract');
    // An abbreviation counts as the words it stands for: `LLM compression` is read as
    // `large language model compression` is, as "LLM" AND "compression".
    const compressed = paper('Smaller large language models', 'Weights are pruned and quantized; the compression keeps accuracy.');
    const llmOnly = paper('Large language models for chemistry', 'Large language models predict molecular properties.');
    const compressionOnly = paper('Image codecs', 'Learned compression of images.');
    for (const query of ['LLM compression', 'large language model compression']) {
      expect(ids(run(query, [...bg, compressed, llmOnly, compressionOnly]))).toEqual([compressed.id]);
    }
    // Not when the text names a concept family: `explainable AI` is a known term, no "AI" AND "explainable".
    const explained = paper('Chatbots', 'AI models answer questions; every answer is explainable to auditors.');
    expect(run('explainable AI', [...bg, explained])).toEqual([]);
    expect(ids(run('AI explainability', [...bg, explained]))).toEqual([explained.id]);
    // Once a paper writes the phrase, its own statistics decide: the reading is off.
    const written = paper('Deep learning optimizers compared', 'We compare deep learning optimizers on many tasks.');
    expect(ids(run('deep learning optimizers', [...papers, written]))).toEqual([written.id]);
    // A term no paper writes is no known term: nothing to read.
    const noTerm = paper('Faster training', 'Adaptive optimizers help deep networks, and learning rates matter.');
    expect(run('deep learning optimizers', [...bg, noTerm, restOnly])).toEqual([]);
    // A part that most papers write is no evidence ("learning" for `few-shot learning`: it would be "few-shot" alone).
    const fewShot = paper('Prompting with examples', 'We prompt large models with few-shot examples.');
    expect(run('few-shot learning', [...bg, fewShot])).toEqual([]);
    // Quoted phrases and exclusions are read as written.
    expect(run('"deep learning optimizers"', papers)).toEqual([]);
    expect(ids(run('models -(deep learning optimizers)', papers))).toContain(apart.id);
  });

  it('counts words near each other only in the order typed, except in author names', () => {
    // Both words also occur apart, so neither alone is enough: the order decides.
    const usesWords = Array.from({ length: 4 }, (_, i) => [
      paper(`Pooling ${i}`, 'We use attention to pool image features.'),
      paper(`Probes ${i}`, 'A small prediction head sits on top of the network.'),
    ]).flat();
    const onTopic = paper('Attention heads in transformers', 'We study what attention heads of transformers compute.');
    const inOrder = paper('Smaller transformers', 'We prune attention heads of small models.');
    const reversed = paper('Efficient transformers', 'We speed up multi-head attention on long inputs.');
    const result = ids(run('attention heads', [...bg, ...usesWords, onTopic, inOrder, reversed]));
    expect(result).toEqual([onTopic.id, inOrder.id]);
    // "Lovelace, Ada" is still Ada Lovelace.
    const byHer = paper('Graph networks', 'We study message passing.', { authors: ['Lovelace, Ada'] });
    expect(ids(run('author:"ada lovelace"', [...bg, byHer]))).toEqual([byHer.id]);
  });

  it('reads a phrase whose head names an operation written head first, as a fixed phrase only', () => {
    expect(sent('network pruning', 'We study pruning networks for vision models.')?.why).toBe('phrase "network pruning" written head first in abstract');
    // One word between, as in "fine-tuning large language models"; not two.
    expect(sent('network pruning', 'We study pruning large networks for vision models.')).toBeDefined();
    expect(sent('network pruning', 'We study pruning very large networks for vision models.')).toBeUndefined();
    // The head is a noun of action in the paper ("answering questions", "the generation of code"),
    // not a participle ("pruned networks") or the verb of a clause ("we answer these questions").
    expect(sent('network pruning', 'We study pruned networks for vision models.')).toBeUndefined();
    expect(sent('question answering', 'We study answering questions with vision models.')?.why).toBe('phrase "question answering" written head first in abstract');
    expect(sent('code generation', 'We study the generation of code with vision models.')?.why).toBe('phrase "code generation" written head first in abstract');
    expect(sent('question answering', 'We answer these questions with vision models.')?.why ?? '').not.toContain('head first');
    // No punctuation, coordinator or sentence end inside.
    expect(sent('network pruning', 'We study pruning, networks for vision models.')).toBeUndefined();
    expect(sent('network pruning', 'We study pruning and networks for vision models.')).toBeUndefined();
    expect(sent('network pruning', 'We study pruning. Networks for vision models are small.')).toBeUndefined();
    // A head that names no operation ("laws"), or a participle modifier ("distributed"), is never read head first.
    expect(sent('scaling laws', 'We derive laws for scaling transformers.')?.why ?? '').not.toContain('phrase');
    expect(sent('distributed training', 'We study training distributed models.')).toBeUndefined();
    // "learning X" is what any model does, "X learning" a kind of learning; a function is a thing, not an act.
    expect(sent('representation learning', 'We study learning representations for vision models.')).toBeUndefined();
    expect(sent('value function', 'We bound the function values of smooth objectives.')).toBeUndefined();
  });

  it('reads a typed "A of B" as the compound "B A" too, as a fixed phrase only', () => {
    expect(sent('loss of plasticity', 'We study plasticity loss in vision models.')?.why).toBe('phrase "plasticity loss" in abstract');
    // The why text names the compound in the query's words.
    expect(sent('theory of transformers', 'A transformer theory for vision models.')?.why).toBe('phrase "transformers theory" in abstract');
    // Adjacent, with no stop word, punctuation, coordinator or sentence end between.
    expect(sent('loss of plasticity', 'We study plasticity in loss landscapes of vision models.')).toBeUndefined();
    expect(sent('loss of plasticity', 'We study plasticity, loss and vision models.')).toBeUndefined();
    expect(sent('loss of plasticity', 'We study plasticity and loss in vision models.')).toBeUndefined();
    expect(sent('loss of plasticity', 'We study plasticity. Loss of vision models is small.')).toBeUndefined();
    // A head that names an operation is written as a noun of action: "transformers trained" is no
    // "transformer training".
    expect(sent('training of transformers', 'We study transformer training for vision models.')?.why).toBe('phrase "transformers training" in abstract');
    expect(sent('training of transformers', 'We study transformers trained for vision models.')).toBeUndefined();
    // As written when quoted; and nothing for other prepositions ("rank learning" is no learning to rank).
    expect(sent('"loss of plasticity"', 'We study plasticity loss in vision models.')).toBeUndefined();
    expect(sent('learning to rank', 'We study rank learning for vision models.')).toBeUndefined();
  });

  it('reads a typed two-word compound "B A" as "A of B" too, with nothing but an article after the "of"', () => {
    expect(sent('convergence rates', 'We prove faster rates of convergence for vision models.')?.why).toBe('phrase "rates of convergence" in abstract');
    expect(sent('training dynamics', 'We study the dynamics of the training of vision models.')?.why).toBe('phrase "dynamics of training" in abstract');
    // Another stop word, or more than an article, or punctuation or a sentence end, is no such phrase:
    // "growth in model size" is no model growth.
    const unlinked: [string, string][] = [
      ['model growth', 'We study the growth in model size of vision models.'],
      ['convergence rates', 'We prove faster rates of fast convergence for vision models.'],
      ['convergence rates', 'We prove rates of these convergence for vision models.'],
      ['convergence rates', 'We prove rates. Of convergence we say little in vision models.'],
      // Not when quoted.
      ['"convergence rates"', 'We prove faster rates of convergence for vision models.'],
    ];
    for (const [query, abstract] of unlinked) expect(sent(query, abstract)).toBeUndefined();
    // Nor for a head that names an operation (read head first), "learning" among them.
    expect(sent('feature learning', 'We study the learning of features in vision models.')?.why ?? '').not.toContain(' of ');
  });

  it('reads no window whose first word heads another known term, unless that term is a compound modifier', () => {
    // "continual learning" is a term of its own: "continual learning of pre-trained models" is not
    // continual pre-training. "continual efficient pre-training" is.
    const near = paper('Cheaper models', 'We propose continual efficient pre-training for language models.');
    const other = paper('Cheaper models', 'We propose continual learning for pre-trained language models.');
    const result = run('continual pre-training', [...bg, near, other]);
    expect(result.find((m) => m.paperId === near.id)?.why).toBe('"continual", "pre-training" close together in abstract');
    expect(result.find((m) => m.paperId === other.id)?.why ?? '').not.toContain('close together');
    // "model merging" is a term of its own for `model editing`; a stop word between ends no term.
    // (No model follows "editing" here: "editing language models" would be the phrase head first.)
    const merged = paper('Cheaper models', 'We study model merging and editing in practice.');
    const edited = paper('Cheaper models', 'We study model and weight editing for language models.');
    const editing = run('model editing', [...bg, merged, edited]);
    expect(editing.find((m) => m.paperId === edited.id)?.why).toBe('"model", "editing" close together in abstract');
    expect(editing.find((m) => m.paperId === merged.id)?.why ?? '').not.toContain('close together');
  });

  it('reads a hyphenated query word that stop words reduce to one part as the joined compound', () => {
    const hyphen = paper('In-context learning of linear functions', 'Transformers learn in-context.');
    const solid = paper('Incontext learning', 'Transformers learn from examples.');
    const part = paper('Context matters', 'Robots use context for better planning; context helps.');
    expect(ids(run('in-context', [...bg, hyphen, solid, part])).sort()).toEqual([hyphen.id, solid.id].sort());
    expect(ids(run('on-policy', [...bg, part, paper('Policy gradients', 'A policy.')]))).toEqual([]);
  });

  it('is deterministic and breaks score ties by paper id', () => {
    const x = paper('Pruning', 'Same text.');
    const y = paper('Pruning', 'Same text.');
    const papers = [...bg, y, x];
    const first = run('pruning', papers);
    expect(first.map((m) => m.score)).toEqual([first[0].score, first[0].score]);
    expect(ids(first)).toEqual([x.id, y.id].sort());
    expect(run('pruning', papers)).toEqual(first);
  });

  it('counts a sub-phrase of a long phrase as evidence in proportion to its association with the phrase', () => {
    const whole = paper('Parameter-efficient fine-tuning of vision transformers', 'We adapt pre-trained backbones with few weights.');
    const sub = paper('Efficient fine-tuning of pre-trained models', 'We train a small head on frozen features.');
    const generic = paper('Fine-tuning of pre-trained models', 'We train a small head on frozen features.');
    const users = [0, 1, 2].map((i) => paper(`Parameter-efficient fine-tuning method ${i}`, 'Low-rank updates for large models.'));
    const result = run('parameter-efficient fine-tuning', [...bg, whole, sub, generic, ...users]);
    expect(ids(result)).toContain(sub.id);
    expect(ids(result)).not.toContain(generic.id);
    expect(result.find((m) => m.paperId === sub.id)?.why).toBe('phrase "efficient fine-tuning" in title');
    expect(result.findIndex((m) => m.paperId === whole.id)).toBeLessThan(result.findIndex((m) => m.paperId === sub.id));
  });

  it('counts no sub-phrase for a phrase whose adjacent pairs are written but never the whole', () => {
    // "reinforcement learning" and "learning theory" are both written, "reinforcement learning theory" never.
    const rl = [0, 1, 2].map((i) => paper(`Reinforcement learning agents ${i}`, 'We train reinforcement learning agents on games.'));
    const theory = [0, 1].map((i) => paper(`Deep learning theory ${i}`, 'A learning theory of wide networks.'));
    const games = [0, 1, 2, 3].map((i) => paper(`Auctions ${i}`, 'Game theory of markets.'));
    const papers = [...bg, ...rl, ...theory, ...games];
    const sends = ids(run('reinforcement learning theory', papers));
    for (const p of theory) expect(sends).not.toContain(p.id);
    // Once papers write the whole phrase, its sub-phrase is evidence again, as often as it goes with the whole.
    const whole = [0, 1].map((i) => paper(`Regret bounds ${i}`, 'Reinforcement learning theory gives regret bounds for exploration.'));
    expect(ids(run('reinforcement learning theory', [...papers, ...whole]))).toEqual(expect.arrayContaining([...whole, theory[0], theory[1]].map((p) => p.id)));
  });

  it('reads no sentence of an abstract that gives a link or says the code is available', () => {
    const linked = paper('Sparse adapters', 'We prune adapters. Code is available at https://github.com/lab/parameter-efficient-fine-tuning.');
    const promised = paper('Pruned transformers', 'We prune attention heads. The source code will be made publicly available.');
    const released = paper('Merging models', 'We merge models by averaging. We release our code to help future work.');
    const about = paper('Code models', 'Language models that write code are evaluated on unit tests.');
    const papers = [...bg, linked, promised, released, about];
    expect(ids(run('code', papers))).toEqual([about.id]);
    expect(run('parameter-efficient fine-tuning', papers)).toEqual([]);
    // Nor do the statistics count it.
    expect(documentTerms(linked)).not.toContain('github');
    expect(documentTerms(linked)).toContain('prune');
  });

  it('counts the words of a phrase split between title and abstract as the loosest window', () => {
    // "tensor" and "sketching" are each common alone, so one of them alone is weak evidence.
    const users = [0, 1, 2].map((i) => paper(`Sparse models ${i}`, 'We use tensor sketching to remove weights.'));
    const others = Array.from({ length: 8 }, (_, i) =>
      paper(`Decision trees ${i}`, i % 2 ? 'Sketching of trees reduces overfitting.' : 'A tensor of features for trees.'),
    );
    const split = paper('A tensor method for images', 'We remove weights by sketching before deployment and keep the accuracy.');
    const apart = paper(
      'Sparse models for images',
      'We remove weights by sketching before deployment of a large convolutional model for image classification in a tensor.',
    );
    const result = run('tensor sketching', [...bg, ...users, ...others, split, apart]);
    expect(ids(result)).toContain(split.id);
    expect(ids(result)).not.toContain(apart.id);
    expect(result.find((m) => m.paperId === split.id)?.why).toBe('"tensor" in title; "sketching" in abstract');
  });

  it('ranks lone words after a named phrase as references back to it, but not without the phrase', () => {
    const users = [0, 1, 2].map((i) => paper(`Compression ${i}`, 'We use tensor sketching to compress weights.'));
    const titled = paper('Tensor sketching for vision models', 'We compress convolutional models before deployment on small devices.');
    const refers = paper('Smaller vision models', 'We study tensor sketching: sketching compresses the weights, and sketching early in training keeps accuracy.');
    const noPhrase = paper(
      'Smaller vision models',
      'We study sketching: sketching compresses the weights, and sketching early in training keeps the accuracy of each tensor.',
    );
    const result = ids(run('tensor sketching', [...bg, ...users, titled, refers, noPhrase]));
    // refers names the phrase once, in a longer abstract than the users, then refers back to it twice.
    expect(result).toEqual([titled.id, refers.id, ...users.map((u) => u.id), noPhrase.id]);
  });

  it('counts a phrase named only as a middle item of a list as its words only, below the same phrase in a sentence', () => {
    const users = [0, 1, 2].map((i) => paper(`Compression ${i}`, 'We use tensor sketching to compress weights.'));
    const listed = paper('Smaller vision models', 'We compare quantization, tensor sketching, and distillation for compressing the weights of vision models.');
    const stated = paper('Smaller vision models', 'We compare quantization with tensor sketching to distillation for compressing the weights of vision models.');
    const result = run('tensor sketching', [...bg, ...users, listed, stated]);
    const rank = ids(result);
    expect(rank).toEqual(expect.arrayContaining([listed.id, stated.id]));
    expect(rank.indexOf(stated.id)).toBeLessThan(rank.indexOf(listed.id));
    // Same length, same words: only the enumeration differs.
    const score = (id: string) => result.find((m) => m.paperId === id)?.score ?? 0;
    expect(score(listed.id)).toBeLessThan(score(stated.id));
    // Its words still count (here, strongly associated with the phrase, they pass on their own).
    expect(result.find((m) => m.paperId === listed.id)?.why).toBe('phrase "tensor sketching" in abstract');
  });

  /** `a` is sent for "tensor sketching" with exactly the score of `b`, which differs only in its punctuation. */
  const expectScoredAlike = (a: ReturnType<typeof paper>, b: ReturnType<typeof paper>) => {
    const result = run('tensor sketching', [...bg, a, b]);
    const score = (id: string) => result.find((m) => m.paperId === id)?.score ?? 0;
    expect(score(a.id)).toBeGreaterThan(0);
    expect(score(a.id)).toBe(score(b.id));
  };

  it('reads a list in a title as what the paper is about: a middle item there counts in full', () => {
    expectScoredAlike(
      paper('Quantization, tensor sketching, and distillation for vision models', 'We compress the weights of vision models.'),
      paper('Quantization with tensor sketching to distillation for vision models', 'We compress the weights of vision models.'),
    );
  });

  it('reads a phrase as a list item when one word written before it opens the item, not two or an apposition', () => {
    const users = [0, 1, 2].map((i) => paper(`Compression ${i}`, 'We use tensor sketching to compress weights.'));
    // "…, sparse tensor sketching, …": the phrase is the head of a middle item.
    const headed = paper('Smaller vision models', 'We compare quantization, sparse tensor sketching, and distillation for compressing vision models.');
    const stated = paper('Smaller vision models', 'We compare quantization with sparse tensor sketching to distillation for compressing vision models.');
    const result = run('tensor sketching', [...bg, ...users, headed, stated]);
    const score = (id: string) => result.find((m) => m.paperId === id)?.score ?? 0;
    expect(score(headed.id)).toBeGreaterThan(0);
    expect(score(headed.id)).toBeLessThan(score(stated.id));
  });

  it('does not read a sentence adverbial or an apposition as a list', () => {
    // Two words between the comma and the phrase: "However, unlike standard tensor sketching, …".
    expectScoredAlike(
      paper('Smaller vision models', 'However, unlike standard tensor sketching, our method compresses vision models.'),
      paper('Smaller vision models', 'However unlike standard tensor sketching our method compresses vision models.'),
    );
    // A stop word opens the apposition: "…, a sparse tensor sketching, …".
    expectScoredAlike(
      paper('Smaller vision models', 'We compare quantization, a sparse tensor sketching, and distillation of vision models.'),
      paper('Smaller vision models', 'We compare quantization a sparse tensor sketching and distillation of vision models.'),
    );
  });

  it('reads "X and Y" or a lone comma after a phrase as no enumeration unless a separator also precedes it', () => {
    expectScoredAlike(
      paper('Smaller vision models', 'Tensor sketching, as we show, compresses the weights of vision models well.'),
      paper('Smaller vision models', 'Tensor sketching as we show compresses the weights of vision models well.'),
    );
  });

  it('scores a small digest against the statistics of a larger collection', () => {
    const digest = [paper('Diffusion models for proteins', 'We generate structures.'), ...bg.slice(0, 5)];
    const collection = [...bg, ...digest];
    const result = run('diffusion models', digest, collection);
    expect(ids(result)).toEqual([digest[0].id]);
  });

  it('gives the same answer with and without the candidate index', () => {
    const papers = [
      ...bg,
      paper('Diffusion models', 'Score-based generative models and guidance.'),
      paper('Network pruning', 'We prune networks of models with magnitude criteria.'),
      paper('RLHF for LLMs', 'Reinforcement learning from human feedback with DPO.'),
      paper('Model-based RL', 'World models for planning in reinforcement learning.'),
      paper('Efficient fine-tuning', 'Parameter-efficient fine-tuning and efficient fine-tuning of based reinforcement learning.'),
      paper('Parameter-efficient fine-tuning', 'We study efficient fine-tuning.'),
      paper('Language models trained by RL', 'Reinforcement learning. Then language models follow human feedback.'),
    ];
    const topics = compileTopics(
      ['diffusion models', 'pruning', 'reinforcement learning', 'model-based reinforcement learning', '"score-based" -guidance', 'LLM OR RL', 'title:(pruning OR diffusion) models', 'parameter-efficient fine-tuning', 'reinforcement learning for language models', 'reinforcement learning from human feedback'].map(
        (query, i) => ({ id: `q${i}`, query }),
      ),
    );
    const stats = InMemoryStats.fromPapers(papers);
    const batch = new PaperBatch(papers);
    expect(matchBatch(topics, batch, stats)).toEqual(matchBatch(topics, batch, stats, { exhaustive: true }));
  });

  it('asks the statistics only for keys that documentTerms counts', () => {
    const p = paper('Model-based reinforcement learning with test-time adaptation', 'LLM agents and fine-tuning.');
    const topics = compileTopics([{ id: 'a', query: 'model-based reinforcement learning' }, { id: 'b', query: 'test-time adaptation' }]);
    const terms = new Set(documentTerms(p));
    const needed = statTerms(topics);
    expect(needed.length).toBeGreaterThan(0);
    for (const k of ['model base', 'modelbas', 'reinforc', 'learn', 'reinforc learn', 'base reinforc', 'test time', 'time adapt', 'model base reinforc', 'base reinforc learn', 'test time adapt']) {
      expect(needed).toContain(k);
      expect(terms).toContain(k);
    }
    // A phrase no paper may write is also read as a known term and the rest (the job cannot know
    // which before it loads the statistics): the keys of every such reading, families included.
    const reading = statTerms(compileTopics([{ id: 'c', query: 'deep learning optimizers' }]));
    for (const k of ['deep learn', 'optimizer', 'adam']) expect(reading).toContain(k);
  });

  it('keeps incremental statistics equal to statistics built at once', () => {
    const papers = [...bg.slice(0, 5), paper('Diffusion models', 'Guidance.')];
    const incremental = new InMemoryStats();
    for (const p of papers) incremental.add(p);
    const once = InMemoryStats.fromPapers(papers);
    expect(incremental.docCount).toBe(once.docCount);
    expect(incremental.avgAbstractLength).toBe(once.avgAbstractLength);
    for (const t of documentTerms(papers[5])) expect(incremental.df(t)).toBe(once.df(t));
    expect(once.df('diffus')).toBe(1);
    expect(once.df('diffus model')).toBe(1);
  });
});
