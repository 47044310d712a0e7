import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type DigestEmailView,
  type PaperCardView,
  TemplateRenderer,
  digestSubject,
  safeHttpUrl,
  trimAbstract,
  wrapText,
} from './template-renderer';

const TEMPLATES = path.resolve(__dirname, '../../templates');

function paper(overrides: Partial<PaperCardView> = {}): PaperCardView {
  return {
    title: 'Denoising Diffusion Probabilistic Models',
    url: 'https://arxiv.org/abs/2006.11239',
    authors: 'Jonathan Ho, Ajay Jain, Pieter Abbeel',
    abstract: 'We present high quality image synthesis results using diffusion probabilistic models.',
    topics: ['diffusion models'],
    why: 'title mentions “diffusion”',
    pdfUrl: 'https://arxiv.org/pdf/2006.11239',
    codeUrl: 'https://github.com/hojonathanho/diffusion',
    ...overrides,
  };
}

function digest(overrides: Partial<DigestEmailView> = {}): DigestEmailView {
  return {
    subject: digestSubject(3, 'diffusion models', 1),
    preheader: 'New this week',
    digestDate: 'Mon 14 March 2025',
    papers: [
      paper(),
      paper({
        title: 'Score-Based Generative Modeling through SDEs',
        url: 'https://arxiv.org/abs/2011.13456',
        pdfUrl: null,
        codeUrl: null,
        topics: ['diffusion models', 'score matching'],
      }),
    ],
    moreCount: 1,
    moreUrl: 'https://paperboy.example.org/digests/42',
    manageUrl: 'https://paperboy.example.org/preferences?t=m1',
    unsubscribeUrl: 'https://paperboy.example.org/unsubscribe?t=u1',
    publicUrl: 'https://paperboy.example.org/',
    senderName: 'Paperboy at Example Lab',
    senderAddress: '12 Research Way, Cambridge',
    ...overrides,
  };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };

function decodeEntities(s: string): string {
  return s.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot));/gi, (_, hex, dec, name) =>
    hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(Number(dec)) : ENTITIES[name],
  );
}

/** Every <a> in the HTML as [decoded href, decoded text], the way a mail client would see it. */
function anchors(html: string): Array<[string, string]> {
  return [...html.matchAll(/<a\s[^>]*?href="([^"]*)"[^>]*>([^<]*)<\/a>/g)].map((m) => [decodeEntities(m[1]), decodeEntities(m[2])]);
}

/** Every URL-bearing attribute value, decoded. */
function urlAttributes(html: string): string[] {
  return [...html.matchAll(/\b(?:href|src|action|background)="([^"]*)"/gi)].map((m) => decodeEntities(m[1]));
}

describe('TemplateRenderer', () => {
  let renderer: TemplateRenderer;
  let compilationsBeforeCreate: number;

  beforeAll(async () => {
    compilationsBeforeCreate = TemplateRenderer.compileCount();
    renderer = await TemplateRenderer.create(TEMPLATES);
  });

  it('compiles every email template once at creation', () => {
    expect(renderer.templateNames).toEqual(['digest', 'confirm']);
    expect(TemplateRenderer.compileCount() - compilationsBeforeCreate).toBe(renderer.templateNames.length);
  });

  it('never compiles MJML while rendering (100 recipients)', () => {
    const before = TemplateRenderer.compileCount();
    for (let i = 0; i < 100; i++) {
      const url = `https://paperboy.example.org/unsubscribe?t=${i}`;
      const out = renderer.renderDigest(digest({ unsubscribeUrl: url }));
      expect(anchors(out.html)).toContainEqual([url, 'Unsubscribe']);
    }
    expect(TemplateRenderer.compileCount()).toBe(before);
  });

  it('leaves no template expression unevaluated', () => {
    const out = renderer.renderDigest(digest());
    expect(out.html).not.toMatch(/\{\{|\}\}/);
    expect(out.text).not.toMatch(/\{\{|\}\}|<pb-/);
  });

  it('links every title and carries the manage and unsubscribe links in the HTML', () => {
    const view = digest();
    const { html } = renderer.renderDigest(view);
    const links = anchors(html);
    for (const p of view.papers) expect(links).toContainEqual([p.url, p.title]);
    expect(links).toContainEqual([view.papers[0].pdfUrl, 'PDF']);
    expect(links).toContainEqual([view.papers[0].codeUrl, 'Code']);
    expect(links).toContainEqual([view.unsubscribeUrl, 'Unsubscribe']);
    expect(links).toContainEqual([view.manageUrl, 'Manage your alerts']);
    expect(links).toContainEqual([view.publicUrl, 'Paperboy']);
    expect(urlAttributes(html)).toContain(view.moreUrl);
    expect(html).toContain('<title>3 new papers for “diffusion models” and 1 more alert</title>');
    expect(html).toContain('…and 1 more paper matched your alerts.');
    expect(html).toContain('12 Research Way, Cambridge');
  });

  it('has a readable text part with every title and URL', () => {
    const view = digest();
    const { text } = renderer.renderDigest(view);
    for (const p of view.papers) {
      expect(text).toContain(p.title);
      expect(text).toContain(`<${p.url}>`);
    }
    for (const url of [view.papers[0].pdfUrl!, view.papers[0].codeUrl!, view.moreUrl!, view.manageUrl, view.unsubscribeUrl]) {
      expect(text).toContain(`<${url}>`);
    }
    for (const line of text.split('\n')) {
      // Only a lone URL may run past the wrap width.
      if (line.length > 72) expect(line.trim()).toMatch(/^(?:\S+: +)?<[^\s>]+>$/);
    }
    expect(text).not.toMatch(/&amp;|&lt;|&quot;|&#/); // text/plain is not HTML-escaped
  });

  it('escapes hostile data and drops non-http(s) URLs', () => {
    const hostile = digest({
      subject: 'Hi\r\nBcc: victim@example.org',
      preheader: '"><script>alert(1)</script>',
      papers: [
        paper({
          title: '<script>alert("t")</script> "quoted" & \'single\'',
          url: 'javascript:alert(1)',
          authors: '<img src=x onerror=alert(2)>',
          abstract: '</p><iframe src="https://evil.example"></iframe>',
          topics: ['<b>bold</b>', 'x" onmouseover="alert(3)'],
          why: '{{constructor}} <svg onload=alert(4)>',
          pdfUrl: 'data:text/html,<script>alert(5)</script>',
          codeUrl: ' JaVaScRiPt:alert(6)',
        }),
        paper({ title: 'Credentials in URL', url: 'https://arxiv.org@evil.example/', pdfUrl: 'vbscript:x', codeUrl: 'ftp://x.example/' }),
      ],
      moreUrl: 'javascript:alert(7)',
      publicUrl: 'file:///etc/passwd',
    });
    const { subject, html, text } = renderer.renderDigest(hostile);

    expect(subject).toBe('Hi Bcc: victim@example.org');
    expect(html).not.toMatch(/<script|<img src=x|<iframe|<svg|<b>bold/i);
    expect(html).not.toMatch(/onerror=|onload=|" onmouseover=/);
    const urls = urlAttributes(html);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^https:\/\/paperboy\.example\.org\//); // every hostile paper URL was dropped
    }
    expect(html).toContain('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &quot;quoted&quot; &amp; &#x27;single&#x27;');
    expect(html).toContain('x&quot; onmouseover&#x3D;&quot;alert(3)');
    expect(html).toContain('{{constructor}}'); // data is never evaluated as a template
    expect(html).not.toContain('See all'); // the "more" button needs a safe URL
    // Titles without a safe URL are shown, just not linked.
    expect(html).toMatch(/<h2[^>]*>&lt;script&gt;alert/);

    for (const [, url] of text.matchAll(/<([a-z]+:[^>\s]*)>/gi)) expect(url).toMatch(/^https:\/\/paperboy\.example\.org\//);
    expect(text).not.toMatch(/javascript:|vbscript:|data:text|file:|ftp:/i);
    expect(text).toContain('<script>alert("t")</script> "quoted"'); // plain text: shown literally
  });

  it('refuses to render without a usable unsubscribe or manage link', () => {
    expect(() => renderer.renderDigest(digest({ unsubscribeUrl: 'javascript:alert(1)' }))).toThrow(/unsubscribeUrl/);
    expect(() => renderer.renderDigest(digest({ manageUrl: '' }))).toThrow(/manageUrl/);
  });

  it('shows the project page and upvotes a source carried, in both parts', () => {
    const email = renderer.renderDigest(digest({ papers: [paper({ projectUrl: 'https://example.org/project-x', upvotes: 42 })] }));
    expect(email.html).toContain('href="https://example.org/project-x"');
    expect(email.html).toContain('42 upvotes');
    expect(email.text).toContain('Project page: <https://example.org/project-x>');
    expect(email.text).toContain('42 upvotes');
    const none = renderer.renderDigest(digest({ papers: [paper({ projectUrl: 'javascript:alert(1)', upvotes: 0 })] }));
    expect(none.html).not.toContain('Project page');
    expect(none.html).not.toContain('upvote');
  });

  it('omits the manage link when there is no preference centre (null), keeping unsubscribe', () => {
    const email = renderer.renderDigest(digest({ manageUrl: null }));
    expect(email.html).not.toContain('Manage your alerts');
    expect(email.text).not.toContain('Manage your alerts');
    expect(email.html).toContain('Unsubscribe');
    expect(email.text).toContain('Unsubscribe:');
  });

  it('trims long abstracts in both parts', () => {
    const long = `${'word '.repeat(200)}END`;
    const { html, text } = renderer.renderDigest(digest({ papers: [paper({ abstract: long })] }));
    expect(html).not.toContain('END');
    expect(html).toContain('word…');
    expect(text).not.toContain('END');
  });

  it('renders without optional parts (no authors, links, topics or "more")', () => {
    const { html, text } = renderer.renderDigest(
      digest({ papers: [paper({ url: null, authors: null, pdfUrl: undefined, codeUrl: undefined, topics: [] })], moreCount: 0, moreUrl: null }),
    );
    expect(html).not.toContain('more paper');
    expect(html).not.toContain('>PDF<');
    expect(text).not.toContain('Matched:');
    expect(text).not.toContain('PDF:');
  });

  it('shares a rendered card between emails but never mixes up two papers', () => {
    // Same title, URL and "why" (the cache key), different content: each email shows its own.
    const a = paper({ abstract: 'Abstract of the first version.', authors: 'Ada Lovelace' });
    const b = paper({ abstract: 'Abstract of the second version.', authors: 'Alan Turing' });
    const c = paper({ ...a, topics: ['score matching'] });
    const one = renderer.renderDigest(digest({ papers: [a, b, c] }));
    const two = renderer.renderDigest(digest({ papers: [c, b, a] }));
    for (const out of [one, two]) {
      for (const [abstract, author] of [['first', 'Ada Lovelace'], ['second', 'Alan Turing']]) {
        expect(out.html).toContain(`Abstract of the ${abstract} version.`);
        expect(out.text).toContain(`Abstract of the ${abstract} version.`);
        expect(out.html).toContain(author);
      }
      expect(out.html.match(/>score matching</g)).toHaveLength(1);
    }
    // A card keeps its place: numbered by position in the text part, wherever it was shown before.
    expect(two.text.indexOf('1. Denoising')).toBeLessThan(two.text.indexOf('score matching'));
    expect(two.text).toMatch(/^3\. Denoising[^]*Abstract of the first version\.[^]*Why:/m);
    expect(renderer.renderDigest(digest({ papers: [a, b, c] }))).toEqual(one);
  });

  it('gives the HTML in pieces that make up the same email, cards ending their lines', () => {
    const view = digest();
    const parts = renderer.renderDigestParts(view);
    const whole = renderer.renderDigest(view);
    expect(parts.html.head + parts.html.cards.join('') + parts.html.tail).toBe(whole.html);
    expect(parts.text).toBe(whole.text);
    expect(parts.html.cards).toHaveLength(view.papers.length);
    for (const card of parts.html.cards) expect(card).toMatch(/^<[^]*\n$/);
    expect(parts.html.head).toMatch(/\n$/);
  });

  it('removes MJML\'s indentation from the HTML', () => {
    const { html } = renderer.renderDigest(digest());
    expect(html).not.toMatch(/^[ \t]+\S/m);
    expect(html.length).toBeLessThan(20_000); // two cards; it was ~28 KB before the leaner template
  });
});

describe('TemplateRenderer.create with broken templates', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-templates-'));
    await fs.cp(TEMPLATES, dir, { recursive: true });
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  async function edit(file: string, fn: (s: string) => string): Promise<void> {
    const p = path.join(dir, file);
    await fs.writeFile(p, fn(await fs.readFile(p, 'utf8')));
  }

  it('names the file and line of invalid MJML (strict validation)', async () => {
    await edit('digest.mjml', (s) => s.replace('<mj-column>', '<mj-column>\n<mj-section></mj-section>'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml:3: mj-section cannot be used inside mj-column/);
  });

  it('requires the digest\'s <pb-each> on its own line, and no position in HTML cards', async () => {
    await edit('digest.mjml', (s) => s.replace(/^.*<pb-each.*$/m, ''));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml: html template failed on sample data: needs one <pb-each list="papers"/);
    await fs.cp(TEMPLATES, dir, { recursive: true });
    await edit('digest.mjml', (s) => s.replace(/^(.*)(<pb-each.*)$/m, '$1<p>x</p>$2'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml:\d+: unresolved or misplaced directive/);
    await fs.cp(TEMPLATES, dir, { recursive: true });
    // HTML cards are shared by every email that shows them, wherever they stand
    await edit('partials/paper-card.mjml', (s) => s.replace('{{title}}</a>', '{{n}}. {{title}}</a>'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml: html template failed on sample data: "n" not defined/);
  });

  it('rejects unescaped expressions', async () => {
    await edit('digest.mjml', (s) => s.replace('{{heading}}', '{{{heading}}}'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml:5: unescaped expression/);
    await edit('digest.mjml', (s) => s.replace('{{{heading}}}', '{{heading}}'));
    await edit('digest.txt.hbs', (s) => s.replace('{{heading}}', '{{& heading}}'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.txt\.hbs:3: unescaped expression/);
  });

  it('reports Handlebars syntax errors and unknown fields at startup', async () => {
    await edit('partials/paper-card.mjml', (s) => s.replace('{{/if}}</h2>', '</h2>'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/paper-card\.mjml:\d+: Handlebars syntax error/);
    await fs.cp(TEMPLATES, dir, { recursive: true });
    await edit('partials/paper-card.txt.hbs', (s) => s.replace('{{title}}', '{{titel}}'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.txt\.hbs: text template failed on sample data: "titel" not defined/);
  });

  it('rejects unknown directives, missing partials and unknown email kinds', async () => {
    await edit('digest.mjml', (s) => s.replace('partial="paper-card"', 'partial="nope"'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/partials\/nope\.mjml: cannot read template \(included from .*digest\.mjml\)/);
    await fs.cp(TEMPLATES, dir, { recursive: true });
    await edit('digest.mjml', (s) => s.replace('{{digestDate}}', '{{digestDate}} <pb-include partial="paper-card" />'));
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/digest\.mjml:4: unresolved or misplaced directive/);
    await fs.cp(TEMPLATES, dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'welcome.mjml'), '<mj-section></mj-section>');
    await expect(TemplateRenderer.create(dir)).rejects.toThrow(/welcome\.mjml: no renderer for email kind "welcome"/);
  });
});

describe('text and URL helpers', () => {
  it('safeHttpUrl keeps http(s) only', () => {
    expect(safeHttpUrl('https://arxiv.org/abs/1')).toBe('https://arxiv.org/abs/1');
    expect(safeHttpUrl(' http://example.org/a b ')).toBeNull(); // inner whitespace
    expect(safeHttpUrl('http://example.org/"><x')).toBe('http://example.org/%22%3E%3Cx');
    for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'java\nscript:alert(1)', 'data:text/html,x', 'mailto:a@b.c', '//evil.example', '/relative', 'https://user:pw@example.org/', '', null, undefined, 42]) {
      expect(safeHttpUrl(bad)).toBeNull();
    }
  });

  it('trimAbstract cuts on a word boundary with an ellipsis', () => {
    expect(trimAbstract('short  and\n\tsweet')).toBe('short and sweet');
    const out = trimAbstract(`${'abcdefghi '.repeat(60)}`);
    expect(out.length).toBeLessThanOrEqual(401);
    expect(out).toMatch(/abcdefghi…$/);
  });

  it('digestSubject reads naturally', () => {
    expect(digestSubject(1, 'diffusion models')).toBe('1 new paper for “diffusion models”');
    expect(digestSubject(7, 'diffusion models', 2)).toBe('7 new papers for “diffusion models” and 2 more alerts');
    expect(digestSubject(2, 'x\r\nBcc: y', 1)).toBe('2 new papers for “x Bcc: y” and 1 more alert');
    expect(() => digestSubject(0, 'x')).toThrow(RangeError);
  });

  it('wrapText wraps with hanging indents and never breaks URLs', () => {
    const url = `<https://example.org/${'a'.repeat(90)}>`;
    const out = wrapText(`1. ${'word '.repeat(30)}\n   ${url}\n-- \nend`, 40);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^1\. word/);
    expect(lines[1]).toMatch(/^ {3}word/);
    expect(lines).toContain(`   ${url}`);
    expect(lines).toContain('-- ');
  });
});
