import { parseEnv } from './config.schema';
import { parseSourceSpec } from './sources.config';

describe('source configuration', () => {
  it('enables no source by default, and points at the public services', () => {
    const env = parseEnv({});
    expect(env.SOURCES).toEqual([]);
    expect(env.HF_API_URL).toBe('https://huggingface.co');
    expect(env.ARXIV_API_URL).toBe('https://export.arxiv.org');
    expect(env.ARXIV_RSS_URL).toBe('https://rss.arxiv.org');
    expect(env.ARXIV_REQUEST_INTERVAL_MS).toBe(3000);
    expect(env.FETCH_ALLOW_HOSTS).toEqual([]);
    expect(env.SOURCE_SCHEDULE_HF).toBe('30 23 * * *');
  });

  it('parses the SOURCES list, keeps the category as written and names each source in lower case', () => {
    const env = parseEnv({ SOURCES: ' hf-daily, arxiv-rss:cs.LG,arxiv-api:astro-ph.CO,hf-daily ', FETCH_ALLOW_HOSTS: '127.0.0.1, Mirror.local' });
    expect(env.SOURCES).toEqual([
      { kind: 'hf-daily', name: 'hf-daily' },
      { kind: 'arxiv-rss', category: 'cs.LG', name: 'arxiv-rss:cs.lg' },
      { kind: 'arxiv-api', category: 'astro-ph.CO', name: 'arxiv-api:astro-ph.co' },
    ]);
    expect(env.FETCH_ALLOW_HOSTS).toEqual(['127.0.0.1', 'mirror.local']);
    for (const s of env.SOURCES) expect(s.name).toMatch(/^[a-z0-9][a-z0-9._:-]{0,63}$/);
  });

  it('names the variable and the problem', () => {
    expect(() => parseEnv({ SOURCES: 'hf-daily,rss:cs.LG' })).toThrow(/SOURCES: "rss:cs.LG" is not a source/);
    expect(() => parseEnv({ SOURCES: 'arxiv-rss:cs/LG' })).toThrow(/SOURCES: "cs\/LG" is not an arXiv category/);
    expect(() => parseEnv({ SOURCE_SCHEDULE_HF: 'every day' })).toThrow(/SOURCE_SCHEDULE_HF: must be a cron pattern/);
    expect(() => parseEnv({ SOURCE_SCHEDULE_ARXIV: '61 * * * *' })).toThrow(/SOURCE_SCHEDULE_ARXIV: must be a cron pattern/);
    expect(() => parseEnv({ SOURCE_SCHEDULE_ARXIV: '* *' })).toThrow(/SOURCE_SCHEDULE_ARXIV/);
    expect(() => parseEnv({ HF_API_URL: 'ftp://huggingface.co' })).toThrow(/HF_API_URL: must be an http\(s\) URL/);
    expect(parseEnv({ SOURCE_SCHEDULE_ARXIV: '*/10 * * * * *' }).SOURCE_SCHEDULE_ARXIV).toBe('*/10 * * * * *');
  });

  it('parseSourceSpec', () => {
    expect(parseSourceSpec('arxiv-api:math.AP')).toEqual({ kind: 'arxiv-api', category: 'math.AP', name: 'arxiv-api:math.ap' });
    expect(parseSourceSpec('arxiv-rss:hep-th')).toMatchObject({ name: 'arxiv-rss:hep-th' });
    expect(parseSourceSpec('hf-daily:x')).toMatch(/is not a source/);
  });
});
