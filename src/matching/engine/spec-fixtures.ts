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
