import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMatchCommand } from '../match.command';
import { compileTopics, InMemoryStats, matchPapers } from './index';
import { FEEDBACK_PAPERS } from './spec-fixtures';

describe('match command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-match-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const papers = file(
    'papers.jsonl',
    [
      { id: 'A', title: 'Diffusion models for proteins', abstract: 'We train diffusion models.' },
      { id: 'B', title: 'Graph learning', abstract: 'Message passing on graphs.', authors: ['Ada Lovelace'] },
      { id: 'C', title: 'Better sampling', abstract: 'Faster samplers for diffusion models.' },
    ]
      .map((p) => JSON.stringify(p))
      .join('\n'),
  );
  const topics = file('topics.json', JSON.stringify({ T1: { query: 'diffusion models', intent: 'ignored' }, T2: { query: 'quantum' } }));

  async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    let out = '';
    await runMatchCommand(argv, (s) => (out += s), env);
    return out;
  }

  it('prints, per topic, the papers to send, best first, with score and why', async () => {
    const result = JSON.parse(await run(['--papers', papers, '--topics', topics]));
    expect(Object.keys(result)).toEqual(['T1', 'T2']);
    expect(result.T1.map((m: { paperId: string }) => m.paperId)).toEqual(['A', 'C']);
    expect(result.T1[0]).toEqual({ paperId: 'A', score: expect.any(Number), why: expect.stringContaining('diffusion models') });
    expect(result.T2).toEqual([]);
  });

  it('accepts --name=value arguments', async () => {
    expect(JSON.parse(await run([`--papers=${papers}`, `--topics=${topics}`])).T1).toHaveLength(2);
  });

  it('names a missing file', async () => {
    await expect(run(['--papers', join(dir, 'nope.jsonl'), '--topics', topics])).rejects.toThrow(/cannot read papers file .*nope\.jsonl: no such file/);
  });

  it('names the line of bad JSON', async () => {
    const bad = file('bad.jsonl', '{"id":"A","title":"t","abstract":"a"}\n\n{"id":"B",');
    await expect(run(['--papers', bad, '--topics', topics])).rejects.toThrow(/bad\.jsonl line 3: invalid JSON/);
  });

  it('names the line of a paper without the required fields', async () => {
    const bad = file('fields.jsonl', '{"id":"A","title":"t"}');
    await expect(run(['--papers', bad, '--topics', topics])).rejects.toThrow(/line 1: "abstract" must be a string/);
  });

  it('names the topic with an invalid query', async () => {
    const t = file('badtopics.json', JSON.stringify({ ok: { query: 'x' }, broken: { query: '(pruning' } }));
    await expect(run(['--papers', papers, '--topics', t])).rejects.toThrow('topic broken: unbalanced parentheses');
  });

  it('ranks with feedback when MATCH_FEEDBACK is on, as the job does, and names a bad value', async () => {
    const many = FEEDBACK_PAPERS;
    const p = file('many.jsonl', many.map((x) => JSON.stringify(x)).join('\n'));
    const t = file('fold.json', JSON.stringify({ fold: { query: 'protein folding' } }));
    const engine = (feedback: boolean) =>
      matchPapers(compileTopics([{ id: 'fold', query: 'protein folding' }]), many, InMemoryStats.fromPapers(many), { feedback }).get('fold');
    const on = JSON.parse(await run(['--papers', p, '--topics', t], { MATCH_FEEDBACK: 'true' })).fold;
    const off = JSON.parse(await run(['--papers', p, '--topics', t], {})).fold;
    expect(on).toEqual(engine(true));
    expect(off).toEqual(engine(false));
    expect(on).not.toEqual(off);
    await expect(run(['--papers', p, '--topics', t], { MATCH_FEEDBACK: 'maybe' })).rejects.toThrow('MATCH_FEEDBACK must be true or false, not "maybe"');
  });

  it('says which argument is missing', async () => {
    await expect(run(['--papers', papers])).rejects.toThrow(/missing --topics/);
    await expect(run(['--papers'])).rejects.toThrow(/--papers needs a file name/);
  });
});
