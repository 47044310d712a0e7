import { readFile } from 'node:fs/promises';
import { bool } from '../config/config.schema';
import { compileTopics, EnginePaper, InMemoryStats, matchPapers } from './engine';

/**
 * `match --papers PAPERS.jsonl --topics TOPICS.json`: prints, for each topic, the papers a
 * subscriber with that alert would be emailed, best first. The papers file is also the collection
 * the statistics come from. Bad input throws an Error whose message says what is wrong.
 */
export async function runMatchCommand(argv: string[], out: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const args = parseArgs(argv);
  const feedback = feedbackSetting(env);
  const papers = parsePapers(await readText(args.papers, 'papers'), args.papers);
  const topics = parseTopics(await readText(args.topics, 'topics'), args.topics);
  const compiled = compileTopics(topics);
  const stats = InMemoryStats.fromPapers(papers);
  const matches = matchPapers(compiled, papers, stats, { feedback });
  const result: Record<string, { paperId: string; score: number; why: string }[]> = {};
  for (const t of topics) result[t.id] = matches.get(t.id) ?? [];
  out(JSON.stringify(result, null, 1));
}

/** MATCH_FEEDBACK, read as the job reads it (config.schema), so that both rank alike. */
function feedbackSetting(env: NodeJS.ProcessEnv): boolean {
  if (env.MATCH_FEEDBACK === undefined) return false;
  const parsed = bool.safeParse(env.MATCH_FEEDBACK);
  if (!parsed.success) throw new Error(`MATCH_FEEDBACK must be true or false, not "${env.MATCH_FEEDBACK}"`);
  return parsed.data;
}

function parseArgs(argv: string[]): { papers: string; topics: string } {
  const found: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = /^--(papers|topics)=(.*)$/.exec(a);
    if (eq) {
      found[eq[1]] = eq[2];
    } else if (a === '--papers' || a === '--topics') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a file name`);
      found[a.slice(2)] = v;
      i++;
    } else {
      throw new Error(`unknown argument "${a}"; usage: match --papers PAPERS.jsonl --topics TOPICS.json`);
    }
  }
  for (const k of ['papers', 'topics']) {
    if (!found[k]) throw new Error(`missing --${k} FILE; usage: match --papers PAPERS.jsonl --topics TOPICS.json`);
  }
  return { papers: found.papers, topics: found.topics };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} file ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export function parsePapers(text: string, path: string): EnginePaper[] {
  const papers: EnginePaper[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = `${path} line ${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected a JSON object`);
    const o = v as Record<string, unknown>;
    if (typeof o.id !== 'string' || !o.id) throw new Error(`${where}: "id" must be a non-empty string`);
    if (typeof o.title !== 'string') throw new Error(`${where}: "title" must be a string`);
    if (typeof o.abstract !== 'string') throw new Error(`${where}: "abstract" must be a string`);
    if (o.authors !== undefined && (!Array.isArray(o.authors) || o.authors.some((a) => typeof a !== 'string'))) {
      throw new Error(`${where}: "authors" must be an array of strings`);
    }
    if (seen.has(o.id)) throw new Error(`${where}: duplicate paper id "${o.id}"`);
    seen.add(o.id);
    papers.push({ id: o.id, title: o.title, abstract: o.abstract, authors: o.authors as string[] | undefined });
  });
  return papers;
}

export function parseTopics(text: string, path: string): { id: string; query: string }[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`${path}: expected an object { "<topic id>": { "query": "…" } }`);
  }
  return Object.entries(v as Record<string, unknown>).map(([id, t]) => {
    const query = typeof t === 'object' && t !== null ? (t as Record<string, unknown>).query : undefined;
    if (typeof query !== 'string') throw new Error(`${path}: topic ${id} needs a "query" string`);
    return { id, query };
  });
}
