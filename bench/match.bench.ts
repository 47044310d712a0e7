/**
 * Speed benchmark of matching + fan-out at the scale of a large deployment:
 * 1,000,000 subscribers × 5 alerts drawn (Zipf, s = 1) from 40,000 distinct queries of 1–4 words
 * taken from the vocabulary of the fixture collection, against a digest of 500 papers.
 * Run: tsc -p . && node dist/bench/match.bench.js [--json] [--cpu] [--feedback] [--subscribers N] [--topics N] [--papers N]
 * The last line printed is one JSON object with the figures.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolve } from 'node:path';
import { compileTopics, EnginePaper, FanoutIndex, InMemoryStats, matchBatch, PaperBatch } from '../src/matching/engine';
import { normalizeText, STOP_WORDS } from '../src/matching/engine/tokenize';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SUBSCRIBERS = arg('subscribers', 1_000_000);
const ALERTS_PER_SUBSCRIBER = 5;
const TOPICS = arg('topics', 40_000);
const PAPERS = arg('papers', 500);
const NAIVE_SAMPLE = arg('naive-sample', 200);
const jsonOnly = process.argv.includes('--json');
/**
 * --cpu: time the warm runs in CPU time of this process (user, ms) instead of wall-clock time, for
 * comparisons on a machine shared with other work.
 */
const clock = process.argv.includes('--cpu') ? () => process.cpuUsage().user / 1000 : () => performance.now();
/** --feedback: rank with pseudo-relevance feedback, as the job does with MATCH_FEEDBACK=true. */
const feedback = process.argv.includes('--feedback');

/** Deterministic PRNG (mulberry32), so every run measures the same population. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A full collection between timed runs (never inside one), so rssMb reflects what a run needs
// rather than how much garbage V8 chose to keep from earlier runs.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

const log = (s: string) => (jsonOnly ? process.stderr : process.stdout).write(`${s}\n`);
let peakRss = 0;
const memory: string[] = [];
const sampleRss = (phase?: string) => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  if (phase) memory.push(`${phase} rss ${Math.round(m.rss / 1048576)} MB, heap ${Math.round(m.heapUsed / 1048576)} MB`);
};

function loadFixture(): EnginePaper[] {
  const file = resolve(__dirname, '../../test/fixtures/eval/papers.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const o = JSON.parse(l) as EnginePaper;
      return { id: o.id, title: o.title, abstract: o.abstract };
    });
}

/** The fixture papers, topped up to `n` with papers whose sentences are drawn from random fixture papers. */
function digest(base: EnginePaper[], n: number, rand: () => number): EnginePaper[] {
  const out = base.slice(0, n);
  const sentences = base.flatMap((p) => p.abstract.split(/(?<=\.)\s+/));
  for (let i = out.length; i < n; i++) {
    const donor = base[Math.floor(rand() * base.length)];
    const k = 4 + Math.floor(rand() * 5);
    const abs: string[] = [];
    for (let j = 0; j < k; j++) abs.push(sentences[Math.floor(rand() * sentences.length)]);
    out.push({ id: `S${String(i).padStart(4, '0')}`, title: donor.title, abstract: abs.join(' ') });
  }
  return out;
}

/** Distinct queries of 1–4 words, words uniform over the collection words that occur in ≥ 2 papers. */
function makeQueries(papers: EnginePaper[], n: number, rand: () => number): string[] {
  const df = new Map<string, number>();
  for (const p of papers) {
    const words = new Set(normalizeText(`${p.title} ${p.abstract}`).match(/[a-z][a-z-]{2,}/g) ?? []);
    for (const w of words) if (!STOP_WORDS.has(w)) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const vocab = [...df].filter(([, c]) => c >= 2).map(([w]) => w).sort();
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const len = 1 + Math.floor(rand() * 4);
    const words: string[] = [];
    for (let i = 0; i < len; i++) words.push(vocab[Math.floor(rand() * vocab.length)]);
    const q = words.join(' ');
    if (!seen.has(q)) {
      seen.add(q);
      out.push(q);
    }
  }
  log(`vocabulary: ${vocab.length} words occurring in ≥ 2 papers`);
  return out;
}

/** Zipf(s = 1) sampler over ranks 0..n-1. */
function zipf(n: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function main(): void {
  const rand = rng(20240601);
  const papers = digest(loadFixture(), PAPERS, rand);
  const queries = makeQueries(papers, TOPICS, rand);
  const stats = InMemoryStats.fromPapers(papers);

  // Alerts: subscriber s has alerts[5s .. 5s + 5), distinct topic indexes.
  const pick = zipf(TOPICS, rand);
  const alerts = new Int32Array(SUBSCRIBERS * ALERTS_PER_SUBSCRIBER);
  for (let s = 0; s < SUBSCRIBERS; s++) {
    const base = s * ALERTS_PER_SUBSCRIBER;
    for (let k = 0; k < ALERTS_PER_SUBSCRIBER; k++) {
      let t: number;
      do t = pick();
      while (alerts.subarray(base, base + k).includes(t));
      alerts[base + k] = t;
    }
  }
  sampleRss('population');

  let t0 = performance.now();
  const compiled = compileTopics(queries.map((query, i) => ({ id: String(i), query })));
  const compileMs = performance.now() - t0;
  t0 = performance.now();
  const index = FanoutIndex.build(TOPICS, SUBSCRIBERS, (emit) => {
    for (let i = 0; i < alerts.length; i++) emit((i / ALERTS_PER_SUBSCRIBER) | 0, alerts[i]);
  });
  const indexMs = performance.now() - t0;
  const distinctUsed = new Set(alerts).size;
  sampleRss('compiled + index');

  // Warm path: analyse the digest, match every distinct topic, fan out to subscribers.
  const warm = () => {
    const start = clock();
    const batch = new PaperBatch(papers);
    const analysed = clock();
    const matches = matchBatch(compiled, batch, stats, { feedback });
    const matched = clock();
    const fired: number[] = [];
    const perTopic = new Int32Array(TOPICS);
    for (const [id, list] of matches) {
      fired.push(Number(id));
      perTopic[Number(id)] = list.length;
    }
    const fan = index.fanOut(fired);
    let deliveries = 0;
    for (let i = 0; i < fan.topics.length; i++) deliveries += perTopic[fan.topics[i]];
    let topicMatches = 0;
    for (const list of matches.values()) topicMatches += list.length;
    sampleRss();
    const end = clock();
    return {
      ms: end - start,
      analyseMs: analysed - start,
      matchMs: matched - analysed,
      fanOutMs: end - matched,
      firedTopics: fired.length,
      subscribersReached: fan.subscribers.length,
      deliveries,
      topicMatches,
    };
  };
  fullGc();
  warm(); // JIT warm-up
  sampleRss('after warm-up');
  const runs = [];
  for (let i = 0; i < 3; i++) {
    fullGc();
    runs.push(warm());
  }
  const warmRun = runs.sort((a, b) => a.ms - b.ms)[1];
  sampleRss('after warm runs');
  const topicMatches = warmRun.topicMatches;

  // Naive: the same work per subscriber (each of their alerts scored against every paper, no
  // distinct-topic sharing, no candidate index), timed on a sample and extrapolated.
  const sample = Math.min(NAIVE_SAMPLE, SUBSCRIBERS);
  const batch = new PaperBatch(papers);
  let naiveTotal = 0;
  for (let s = 0; s < sample; s++) {
    if (s % 50 === 0) fullGc(); // outside the timed part
    const own = [];
    for (let k = 0; k < ALERTS_PER_SUBSCRIBER; k++) own.push(compiled[alerts[s * ALERTS_PER_SUBSCRIBER + k]]);
    t0 = performance.now();
    matchBatch(own, batch, stats, { exhaustive: true, feedback });
    naiveTotal += performance.now() - t0;
  }
  sampleRss('after naive');
  const naiveMs = (naiveTotal / sample) * SUBSCRIBERS;
  sampleRss();

  log(`papers: ${papers.length} (${Math.min(papers.length, 305)} fixture papers + synthetic ones from their sentences)`);
  log(`distinct queries: ${TOPICS} (${distinctUsed} used by at least one subscriber); compile ${compileMs.toFixed(0)} ms`);
  log(`fan-out index: ${index.alertCount} alerts, built in ${indexMs.toFixed(0)} ms`);
  log(`warm run (median of 3): ${warmRun.ms.toFixed(0)} ms = analyse papers ${warmRun.analyseMs.toFixed(0)} + match ${warmRun.matchMs.toFixed(0)} + fan-out ${warmRun.fanOutMs.toFixed(0)}; ${warmRun.firedTopics} topics fired with ${topicMatches} topic-paper matches; ` +
    `${warmRun.subscribersReached} subscribers reached, ${warmRun.deliveries} subscriber-paper matches`);
  log(`memory: ${memory.join('; ')}`);
  log(`naive: extrapolated from ${sample} subscribers × ${ALERTS_PER_SUBSCRIBER} alerts, each scored against all ${papers.length} papers${feedback ? ' (with feedback: each call builds every paper vector again)' : ''}`);
  log(`feedback ranking: ${feedback ? 'on' : 'off'}`);
  const result = {
    subscribers: SUBSCRIBERS,
    distinctTopics: TOPICS,
    papers: papers.length,
    warmMs: Math.round(warmRun.ms),
    buildMs: Math.round(indexMs + compileMs),
    indexBuildMs: Math.round(indexMs),
    compileMs: Math.round(compileMs),
    rssMb: Math.round(peakRss / 1048576),
    naiveMs: Math.round(naiveMs),
    naiveExtrapolatedFromSubscribers: sample,
    firedTopics: warmRun.firedTopics,
    subscribersReached: warmRun.subscribersReached,
    subscriberPaperMatches: warmRun.deliveries,
    feedback,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
