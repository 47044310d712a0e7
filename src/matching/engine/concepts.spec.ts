import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanTokens } from './tokenize';
import { getDefaultConcepts } from './vocabulary';

/**
 * The related forms of concepts.json are matched by their Porter2 stems, and some words stem like
 * words of other meanings: "grounding" like "ground truth", "tokenization" like "tokens",
 * "identifiability" like "identify", "provenance" like "proven", "CLIP" like "clipped". This check
 * reads a real corpus (the eval papers and the seed digests) and lists every related form that
 * matches a word its own words do not begin like; each such pair has been read and found to be the
 * same term (an inflection or a derivation of it), or the form goes.
 */
const REVIEWED: Record<string, string[]> = {
  'adapter tuning': ['adaptation'],
  'linear probing': ['probe'],
  'linear probe': ['probing'],
  'domain adaptation': ['adaptive'],
  'compute-optimal': ['computing'],
  'emergent abilities': ['ability'],
  'data scaling': ['scale'],
  'structured pruning': ['structure', 'pruned'],
  pruning: ['prune', 'pruned'],
  quantization: ['quantized'],
  'knowledge distillation': ['distilled'],
  'rejection sampling fine-tuning': ['tune'],
  'class means': ['meaning'],
  'self-distillation': ['distilling'],
  distilling: ['distillation'],
  'continual pre-training': ['continually', 'continue', 'train'],
  'certified robustness': ['robust', 'certifiable'],
  disentanglement: ['disentangling'],
  'pseudo-labeling': ['labels', 'label'],
  'meta-train': ['training'],
  'learning to learn': ['learning'],
  'tool learning': ['tools', 'learn'],
  'function calling': ['functions', 'called'],
  prompting: ['prompt', 'prompts', 'prompted'],
  'prompt format': ['formatting'],
  'early exit': ['exiting'],
  'merging models': ['merged', 'merge'],
  triples: ['tripling'],
  'surrogate model': ['modeling'],
  'climate model': ['modeling'],
  'language model': ['modeling'],
  sharpness: ['sharp'],
  'simulated data': ['simulations'],
  'architecture search': ['searching'],
  debiasing: ['debiased'],
  imagination: ['imagined'],
};

/** Shared leading letters of two words, as a share of the longer one. */
function likeness(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i / Math.max(a.length, b.length);
}

function words(text: string): { stem: string; surface: string }[] {
  const out: { stem: string; surface: string }[] = [];
  scanTokens(text, 0, (stem, _start, _end, surface, joined) => {
    if (!joined) out.push({ stem, surface });
  });
  return out;
}

describe('concept families: related forms read as themselves', () => {
  it('match no word of another meaning in a real corpus', () => {
    const root = join(__dirname, '../../..');
    const texts: string[] = [];
    for (const line of readFileSync(join(root, 'test/fixtures/eval/papers.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const p = JSON.parse(line) as { title: string; abstract: string };
      texts.push(p.title, p.abstract);
    }
    const digests = join(root, 'prisma/seed-digests');
    for (const f of readdirSync(digests)) texts.push(readFileSync(join(digests, f), 'utf8'));
    const corpus = texts.map(words);
    expect(corpus.length).toBeGreaterThan(600);

    const unreviewed: string[] = [];
    for (const family of getDefaultConcepts().families) {
      for (const form of family.related) {
        const own = words(form.text);
        if (own.length !== form.stems.length) continue; // a joined compound: matched whole
        const allowed = new Set(REVIEWED[form.text] ?? []);
        for (const doc of corpus) {
          for (let i = 0; i + own.length <= doc.length; i++) {
            let k = 0;
            while (k < own.length && doc[i + k].stem === own[k].stem) k++;
            if (k < own.length) continue;
            for (let j = 0; j < own.length; j++) {
              const seen = doc[i + j].surface;
              if (likeness(seen, own[j].surface.toLowerCase()) < 0.7 && !allowed.has(seen)) unreviewed.push(`"${form.text}" ~ "${seen}"`);
            }
          }
        }
      }
    }
    expect([...new Set(unreviewed)]).toEqual([]);
  });
});
