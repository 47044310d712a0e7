/** Shared by the engine's specs. */

/** Generic machine-learning abstracts, so that common words get realistic (low) IDF. */
export const FILLER = [
  'We propose a new method for training deep models on large datasets and evaluate it on standard benchmarks.',
  'Our models achieve strong results on image classification while using fewer resources than prior models.',
  'We study optimization of neural networks and show that the learned models generalize better in practice.',
  'A framework for learning representations from data, with experiments on language and vision models.',
  'We analyse the training dynamics of large models and report results across several architectures.',
  'This paper presents an efficient algorithm for inference in probabilistic models with theoretical guarantees.',
  'We introduce a benchmark for evaluating models on reasoning tasks and compare many recent approaches.',
  'Experiments on graphs, text and images show that the proposed approach improves accuracy of the models.',
];

/**
 * Papers for feedback ranking through the job and the CLI: four confident matches of "protein
 * folding" on one subject, then two matches with the same query evidence and length that differ
 * only in subject (X1 wins their tie by id without feedback; X2 talks like the confident ones).
 */
export const FEEDBACK_PAPERS = [
  ...Array.from({ length: 4 }, (_, i) => ({ id: `F${i}`, title: `Protein folding ${i}`, abstract: 'Protein folding: residue contact maps and tertiary structure from amino acid sequences.' })),
  { id: 'X1', title: 'Protein folding', abstract: 'Protein folding of food: the price of protein in food markets from survey data.' },
  { id: 'X2', title: 'Protein folding', abstract: 'Protein folding from sequences: residue contact maps and tertiary structure here.' },
];
