/** Demo readers with different interests (example.org addresses are reserved and never deliverable). */
export const DEMO_SUBSCRIBERS: { email: string; topics: string[] }[] = [
  { email: 'ada@example.org', topics: ['diffusion models', 'neural collapse'] },
  { email: 'grace@example.org', topics: ['preference optimization', '"reward model"'] },
  { email: 'alan@example.org', topics: ['scaling laws', 'mixture of experts'] },
  { email: 'emmy@example.org', topics: ['mechanistic interpretability'] },
  { email: 'kurt@example.org', topics: ['model-based reinforcement learning', 'network pruning'] },
  { email: 'rosalind@example.org', topics: ['protein folding'] },
];
