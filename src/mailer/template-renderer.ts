import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';

/**
 * Email rendering: MJML is compiled ONCE per email kind at startup, per-recipient data only
 * flows through escaping Handlebars expressions (DESIGN.md, rule 9).
 *
 * Template files (under `templatesDir`):
 *   layouts/base.mjml, layouts/base.txt.hbs   the shared layout, with one `<pb-slot name="body" />` line
 *   partials/<name>.mjml, partials/<name>.txt.hbs   fragments pulled in by `<pb-include partial="<name>" />`
 *   <kind>.mjml, <kind>.txt.hbs               one pair per email kind (HTML body fragment + plain-text body)
 *
 * `<pb-slot>` and `<pb-include>` are resolved by this module at compile time, before MJML and
 * Handlebars see the source, so the layout needs no `{{{body}}}` and no recipient data is ever
 * inserted unescaped. A directive must stand on its own line; anything left over makes MJML's strict
 * validation fail, so a typo cannot slip through silently.
 */

// ---------------------------------------------------------------------------------------------
// Public view types
// ---------------------------------------------------------------------------------------------

export interface PaperCardView {
  title: string;
  url: string | null;
  authors: string | null;
  /** Full or pre-trimmed abstract; the renderer trims it to ~400 characters on a word boundary. */
  abstract: string;
  topics: string[];
  why: string;
  pdfUrl?: string | null;
  codeUrl?: string | null;
  projectUrl?: string | null;
  /** Upvotes on the daily-papers site, when a source carried them. */
  upvotes?: number | null;
}

export interface DigestEmailView {
  subject: string;
  preheader: string;
  /** Human date, e.g. 'Mon 14 March 2025'. */
  digestDate: string;
  papers: PaperCardView[];
  moreCount: number;
  moreUrl: string | null;
  /** The preference centre; null until a deployment has one (the footer then shows only unsubscribe). */
  manageUrl: string | null;
  unsubscribeUrl: string;
  publicUrl: string;
  senderName: string;
  senderAddress: string;
  /** Heading above the cards; defaults to the subject. */
  heading?: string;
}

/** The double opt-in email: a link to a page whose button confirms (a GET alone confirms nothing). */
export interface ConfirmEmailView {
  confirmUrl: string;
  /** The alerts as the reader typed them. */
  topics: string[];
  /** e.g. 'every morning at 08:00 (Europe/Paris)'. */
  scheduleLabel: string;
  /** e.g. '7 days'. */
  expiresIn: string;
  publicUrl: string;
  senderName: string;
  senderAddress: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

// ---------------------------------------------------------------------------------------------
// Text helpers (pure, exported for reuse and tests)
// ---------------------------------------------------------------------------------------------

export const ABSTRACT_MAX_CHARS = 400;
export const TEXT_WIDTH = 72;

// C0/C1 controls (tab and newline handled by whitespace collapsing) and bidi embedding/override
// characters, which can visually reorder a title ("Trojan source" style spoofing).
const UNSAFE_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

// Anything cleanText would change: an unsafe character, whitespace other than a single space
// between words, or whitespace at either end. Most values have none and are returned as they are.
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[^\S ]|\s\s|^\s|\s$/;

/** Removes control and bidi-override characters and collapses all whitespace to single spaces. */
export function cleanText(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (!NEEDS_CLEANING.test(text)) return text;
  return text.replace(UNSAFE_CHARS, '').replace(/\s+/g, ' ').trim();
}

/** One-line value safe for a mail header: no CR, LF, NUL or other controls (DESIGN.md). */
export function headerSafe(value: unknown, maxLength = 250): string {
  return truncateOnWord(cleanText(value), maxLength);
}

/**
 * Trims text to at most `max` characters, cutting on a word boundary when one is reasonably close,
 * and appends an ellipsis. Whitespace is collapsed first.
 */
export function truncateOnWord(value: string, max = ABSTRACT_MAX_CHARS): string {
  // Only the start of a long value can end up in the result: clean a prefix that still has more
  // than `max` characters once cleaned (cleaning maps left to right), or the whole value if not.
  let text = typeof value === 'string' && value.length > 2 * max + 64 ? cleanText(value.slice(0, 2 * max + 64)) : '';
  if (text.length <= max + 1) text = cleanText(value);
  if (text.length <= max) return text;
  let cut = text.slice(0, max); // leave room for the ellipsis below
  const lastSpace = cut.lastIndexOf(' ');
  if (lastSpace >= max * 0.6) cut = cut.slice(0, lastSpace);
  // Never leave half of a surrogate pair behind.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut.replace(/[\s,;:.\-–—(]+$/u, '')}…`;
}

/** Trims an abstract for a paper card (~400 chars, word boundary, ellipsis). */
export function trimAbstract(abstract: string): string {
  return truncateOnWord(abstract, ABSTRACT_MAX_CHARS);
}

/**
 * Returns the normalised URL when it is an absolute http(s) URL without embedded credentials,
 * otherwise null. Everything else (javascript:, data:, mailto:, relative, malformed) is dropped.
 */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const raw = value.trim();
  if (raw === '' || /[\u0000-\u001f\u007f\s]/.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  // `https://arxiv.org@evil.example/` reads as arxiv.org to a human: refuse userinfo outright.
  if (url.username !== '' || url.password !== '') return null;
  return url.href;
}

/**
 * Subject line for a digest, e.g. `7 new papers for “diffusion models” and 2 more alerts`.
 * `count` is the number of papers in the digest, `otherTopicCount` the number of other alerts
 * that also matched.
 */
export function digestSubject(count: number, topTopic: string, otherTopicCount = 0): string {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`digestSubject: count must be a positive integer, got ${count}`);
  const topic = truncateOnWord(cleanText(topTopic), 60);
  const papers = `${count.toLocaleString('en-GB')} new ${count === 1 ? 'paper' : 'papers'}`;
  let subject = topic ? `${papers} for “${topic}”` : papers;
  if (otherTopicCount > 0) subject += ` and ${otherTopicCount} more ${otherTopicCount === 1 ? 'alert' : 'alerts'}`;
  return headerSafe(subject);
}

/**
 * Wraps plain text to `width` columns for the text/plain part. Lines keep their indentation;
 * numbered or bulleted lines get a hanging indent; long tokens (URLs) are never broken.
 */
export function wrapText(text: string, width = TEXT_WIDTH): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '-- ') {
      out.push(line); // the signature separator keeps its trailing space (RFC 3676)
      continue;
    }
    const trimmed = line.trimEnd();
    if (trimmed.length <= width) {
      out.push(trimmed);
      continue;
    }
    const indent = /^\s*/.exec(trimmed)![0];
    const marker = /^\s*(?:\d+\.|[-*•])\s+/.exec(trimmed);
    const hanging = marker ? ' '.repeat(marker[0].length) : indent;
    let current = indent;
    let hasWord = false;
    for (const word of trimmed.slice(indent.length).split(/ +/)) {
      if (hasWord && current.length + 1 + word.length > width) {
        out.push(current);
        current = hanging + word;
      } else {
        current += hasWord ? ` ${word}` : word;
      }
      hasWord = true;
    }
    out.push(current);
  }
  // Conditionals in templates can leave runs of blank lines; keep at most one.
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

// ---------------------------------------------------------------------------------------------
// View models: everything the templates see is cleaned here, URLs are http(s) or null
// ---------------------------------------------------------------------------------------------

interface PaperCardModel {
  n: number;
  title: string;
  url: string | null;
  authors: string | null;
  abstract: string;
  topics: string[];
  topicsText: string;
  why: string;
  pdfUrl: string | null;
  codeUrl: string | null;
  projectUrl: string | null;
  upvotesLabel: string | null;
  hasLinks: boolean;
}

interface LayoutModel {
  subject: string;
  preheader: string;
  /** Completes "Why you get this:" in the footer. */
  footerNote: string;
  manageUrl: string | null;
  /** Null only for emails to an address that is not subscribed yet (the confirmation). */
  unsubscribeUrl: string | null;
  publicUrl: string | null;
  senderName: string;
  senderAddress: string;
}

interface DigestModel extends LayoutModel {
  heading: string;
  digestDate: string;
  papers: PaperCardModel[];
  moreCount: number;
  moreLabel: string;
  totalLabel: string;
  moreUrl: string | null;
}

function requiredUrl(value: string, field: string): string {
  const url = safeHttpUrl(value);
  // A digest without a working unsubscribe link must not go out: fail the job instead.
  if (!url) throw new TypeError(`${field} must be an absolute http(s) URL`);
  return url;
}

/** `n` as en-GB writes it (Intl is slow; below 1,000 there is no grouping separator). */
function count(n: number): string {
  return Number.isInteger(n) && n >= 0 && n < 1000 ? String(n) : n.toLocaleString('en-GB');
}

function plural(n: number, one: string, many: string): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

function paperModel(p: PaperCardView, index: number): PaperCardModel {
  const topics = (Array.isArray(p.topics) ? p.topics : []).map(cleanText).filter((t) => t !== '');
  const url = safeHttpUrl(p.url);
  const pdfUrl = safeHttpUrl(p.pdfUrl);
  const codeUrl = safeHttpUrl(p.codeUrl);
  const projectUrl = safeHttpUrl(p.projectUrl);
  const upvotes = typeof p.upvotes === 'number' && Number.isInteger(p.upvotes) && p.upvotes > 0 ? p.upvotes : null;
  return {
    n: index + 1,
    title: truncateOnWord(p.title, 300) || 'Untitled paper',
    url,
    authors: truncateOnWord(p.authors ?? '', 300) || null,
    abstract: trimAbstract(p.abstract ?? ''),
    topics,
    topicsText: topics.join(', '),
    why: truncateOnWord(p.why ?? '', 300),
    pdfUrl,
    codeUrl,
    projectUrl,
    upvotesLabel: upvotes ? plural(upvotes, 'upvote', 'upvotes') : null,
    hasLinks: Boolean(url || pdfUrl || codeUrl || projectUrl),
  };
}

function digestModel(view: DigestEmailView): DigestModel {
  const papers = (view.papers ?? []).map(paperModel);
  const moreCount = Number.isInteger(view.moreCount) && view.moreCount > 0 ? view.moreCount : 0;
  const subject = headerSafe(view.subject);
  return {
    subject,
    preheader: truncateOnWord(view.preheader ?? '', 200),
    footerNote: 'you set up topic alerts on Paperboy. Every paper above matched at least one of them; the “why” line under each paper shows what matched.',
    heading: truncateOnWord(view.heading ?? subject, 200),
    digestDate: cleanText(view.digestDate),
    papers,
    moreCount,
    moreLabel: plural(moreCount, 'more paper', 'more papers'),
    totalLabel: plural(papers.length + moreCount, 'paper', 'papers'),
    moreUrl: safeHttpUrl(view.moreUrl),
    manageUrl: view.manageUrl === null ? null : requiredUrl(view.manageUrl, 'manageUrl'),
    unsubscribeUrl: requiredUrl(view.unsubscribeUrl, 'unsubscribeUrl'),
    publicUrl: safeHttpUrl(view.publicUrl),
    senderName: cleanText(view.senderName),
    senderAddress: cleanText(view.senderAddress),
  };
}

interface ConfirmModel extends LayoutModel {
  confirmUrl: string;
  topics: string[];
  scheduleLabel: string;
  expiresIn: string;
}

export const CONFIRM_SUBJECT = 'Confirm your Paperboy paper alerts';

function confirmModel(view: ConfirmEmailView): ConfirmModel {
  const topics = (view.topics ?? []).map((t) => truncateOnWord(t, 200)).filter((t) => t !== '');
  return {
    subject: CONFIRM_SUBJECT,
    preheader: 'One click and your alerts start. If you did not ask for this, ignore this email.',
    footerNote: 'someone (we hope you) asked for Paperboy paper alerts at this address. If it was not you, ignore this email: nothing more will be sent.',
    manageUrl: null,
    unsubscribeUrl: null,
    publicUrl: safeHttpUrl(view.publicUrl),
    senderName: cleanText(view.senderName),
    senderAddress: cleanText(view.senderAddress),
    confirmUrl: requiredUrl(view.confirmUrl, 'confirmUrl'),
    topics,
    scheduleLabel: cleanText(view.scheduleLabel),
    expiresIn: cleanText(view.expiresIn),
  };
}

const WARM_UP_CONFIRM: ConfirmEmailView = {
  confirmUrl: 'https://example.org/confirm/x',
  topics: ['warm-up'],
  scheduleLabel: 'as soon as papers match',
  expiresIn: '7 days',
  publicUrl: 'https://example.org/',
  senderName: 'Paperboy',
  senderAddress: '1 Example Street',
};

// A complete digest used to warm up (and so fully compile) the templates at startup. Handlebars
// compiles lazily on first call; rendering this once makes template errors surface at boot, and in
// strict mode every field a template mentions must exist, so a typo such as {{titel}} fails here.
const WARM_UP_DIGEST: DigestEmailView = {
  subject: '2 new papers for “warm-up”',
  preheader: 'warm-up',
  digestDate: 'Mon 1 January 2024',
  papers: [
    {
      title: 'A', url: 'https://example.org/a', authors: 'B', abstract: 'C', topics: ['D'], why: 'E',
      pdfUrl: 'https://example.org/a.pdf', codeUrl: 'https://example.org/code', projectUrl: 'https://example.org/project', upvotes: 12,
    },
    { title: 'F', url: null, authors: null, abstract: 'G', topics: [], why: 'H' },
  ],
  moreCount: 2,
  moreUrl: 'https://example.org/more',
  manageUrl: 'https://example.org/manage',
  unsubscribeUrl: 'https://example.org/unsubscribe',
  publicUrl: 'https://example.org/',
  senderName: 'Paperboy',
  senderAddress: '1 Example Street',
};

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

type TemplateFn = (model: object) => string;

interface CompiledEmail {
  html: TemplateFn;
  text: TemplateFn;
}

/** The email kinds this renderer knows; each needs `<kind>.mjml` and `<kind>.txt.hbs`. */
const EMAIL_KINDS = ['digest', 'confirm'] as const;
type EmailKind = (typeof EMAIL_KINDS)[number];

const WARM_UP: Record<EmailKind, object> = { digest: digestModel(WARM_UP_DIGEST), confirm: confirmModel(WARM_UP_CONFIRM) };

const MJML_OPTIONS = {
  validationLevel: 'strict',
  keepComments: false,
  beautify: false,
  minify: false, // htmlnano would have to be taught about {{ }}; the size saving is not worth it
  fonts: {}, // system font stack, no remote font requests
  ignoreIncludes: true, // composition is ours; MJML never reads the filesystem
} as const;

const HELPERS = {
  /** `{{underline heading}}`: a row of '=' as wide as the (wrapped) heading, for the text part. */
  underline: (value: unknown) => '='.repeat(Math.min(cleanText(value).length, TEXT_WIDTH)),
};

let mjmlCompilations = 0;

interface SourceLine {
  text: string;
  file: string;
  line: number;
}

const INCLUDE_RE = /^\s*<pb-include\s+partial="([a-z0-9][a-z0-9-]*)"\s*\/>\s*$/;
const SLOT_RE = /^\s*<pb-slot\s+name="body"\s*\/>\s*$/;
const TOKEN_RE = /\{\{[\s\S]*?\}\}/g;

export class TemplateRenderer {
  private constructor(
    private readonly emails: ReadonlyMap<EmailKind, CompiledEmail>,
    readonly templatesDir: string,
  ) {}

  /**
   * Compiles every email kind once: layout + body + partials are composed, MJML turns the result
   * into HTML (strict validation), and Handlebars compiles the HTML and the text part. Throws a
   * TemplateError naming the file and line of the first problem.
   */
  static async create(templatesDir: string): Promise<TemplateRenderer> {
    const dir = path.resolve(templatesDir);
    await assertNoUnknownKinds(dir);
    const hbs = Handlebars.create();
    for (const [name, fn] of Object.entries(HELPERS)) hbs.registerHelper(name, fn);

    const emails = new Map<EmailKind, CompiledEmail>();
    for (const kind of EMAIL_KINDS) {
      const html = await compileHtml(hbs, dir, kind);
      const text = await compileText(hbs, dir, kind);
      for (const [part, fn, file] of [['html', html, `${kind}.mjml`], ['text', text, `${kind}.txt.hbs`]] as const) {
        try {
          fn(WARM_UP[kind]);
        } catch (err) {
          throw new TemplateError(`${path.join(dir, file)}: ${part} template failed on sample data: ${errorMessage(err)}`);
        }
      }
      emails.set(kind, { html, text });
    }
    return new TemplateRenderer(emails, dir);
  }

  /** Number of MJML compilations in this process. Rendering never adds to it. */
  static compileCount(): number {
    return mjmlCompilations;
  }

  /** The email kinds this renderer compiled (one MJML compilation each). */
  get templateNames(): string[] {
    return [...this.emails.keys()];
  }

  renderDigest(view: DigestEmailView): RenderedEmail {
    const model = digestModel(view);
    const email = this.emails.get('digest')!;
    return { subject: model.subject, html: email.html(model), text: wrapText(email.text(model)) };
  }

  renderConfirm(view: ConfirmEmailView): RenderedEmail {
    const model = confirmModel(view);
    const email = this.emails.get('confirm')!;
    return { subject: model.subject, html: email.html(model), text: wrapText(email.text(model)) };
  }
}

async function assertNoUnknownKinds(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    throw new TemplateError(`Templates directory ${dir} cannot be read: ${errorMessage(err)}`);
  }
  for (const entry of entries) {
    const kind = entry.endsWith('.mjml') ? entry.slice(0, -5) : entry.endsWith('.txt.hbs') ? entry.slice(0, -8) : null;
    if (kind !== null && !(EMAIL_KINDS as readonly string[]).includes(kind)) {
      throw new TemplateError(`${path.join(dir, entry)}: no renderer for email kind "${kind}" (known: ${EMAIL_KINDS.join(', ')})`);
    }
  }
}

async function compileHtml(hbs: typeof Handlebars, dir: string, kind: EmailKind): Promise<TemplateFn> {
  const bodyFile = path.join(dir, `${kind}.mjml`);
  const lines = await compose(dir, bodyFile, path.join(dir, 'layouts', 'base.mjml'), '.mjml');
  const source = lines.map((l) => l.text).join('\n');
  const where = (line: number | undefined) => locate(lines, line, bodyFile);

  checkHandlebars(hbs, source, where); // before MJML, so errors point at the right source line

  let html: string;
  try {
    mjmlCompilations += 1;
    ({ html } = await mjml2html(source, { ...MJML_OPTIONS, filePath: bodyFile }));
  } catch (err) {
    const errors = (err as { errors?: Array<{ line: number; message: string }> }).errors;
    if (errors?.length) {
      throw new TemplateError(`Invalid MJML:\n${errors.map((e) => `  ${where(e.line)}: ${e.message}`).join('\n')}`);
    }
    throw new TemplateError(`${bodyFile}: MJML failed: ${errorMessage(err)}`);
  }

  // MJML must hand every expression through untouched (no entity-encoding of quotes or braces,
  // no expressions dropped or invented), otherwise the compiled template silently breaks.
  const before = new Set(source.match(TOKEN_RE) ?? []);
  const after = new Set(html.match(TOKEN_RE) ?? []);
  const lost = [...before].filter((t) => !after.has(t));
  const mangled = [...after].filter((t) => !before.has(t));
  if (lost.length || mangled.length) {
    throw new TemplateError(
      `${bodyFile}: MJML altered Handlebars expressions (lost: ${lost.join(' ') || 'none'}; unexpected: ${mangled.join(' ') || 'none'})`,
    );
  }
  return compileChecked(hbs, html, { noEscape: false }, () => `${bodyFile} (compiled HTML)`);
}

async function compileText(hbs: typeof Handlebars, dir: string, kind: EmailKind): Promise<TemplateFn> {
  const bodyFile = path.join(dir, `${kind}.txt.hbs`);
  const lines = await compose(dir, bodyFile, path.join(dir, 'layouts', 'base.txt.hbs'), '.txt.hbs');
  const source = lines.map((l) => l.text).join('\n');
  const where = (line: number | undefined) => locate(lines, line, bodyFile);
  // text/plain is not HTML: entity-escaping would show "&amp;" to readers. Values are still cleaned
  // of control characters in the view model, and {{{ }}} stays banned so the templates read the same.
  return compileChecked(hbs, source, { noEscape: true }, where);
}

function compileChecked(
  hbs: typeof Handlebars,
  source: string,
  opts: { noEscape: boolean },
  where: (line: number | undefined) => string,
): TemplateFn {
  checkHandlebars(hbs, source, where);
  return hbs.compile(source, {
    strict: true,
    knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((k) => [k, true])),
    knownHelpersOnly: true,
    noEscape: opts.noEscape,
  });
}

/** Parses the source and enforces the house rules: no raw `{{{ }}}`/`{{& }}`, no partials. */
function checkHandlebars(hbs: typeof Handlebars, source: string, where: (line: number | undefined) => string): void {
  let ast: ReturnType<typeof Handlebars.parse>;
  try {
    ast = hbs.parse(source);
  } catch (err) {
    // Parser errors say "on line N"; block mismatches end in "- line:column".
    const m = /line (\d+)|- (\d+):\d+\s*$/.exec(errorMessage(err));
    const line = m ? Number(m[1] ?? m[2]) : undefined;
    throw new TemplateError(`${where(line)}: Handlebars syntax error: ${errorMessage(err)}`);
  }
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; escaped?: boolean; loc?: { start: { line: number } } };
    if (n.type === 'MustacheStatement' && n.escaped === false) {
      throw new TemplateError(`${where(n.loc?.start.line)}: unescaped expression ({{{ }}} or {{& }}) is not allowed in templates`);
    }
    if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') {
      throw new TemplateError(`${where(n.loc?.start.line)}: use <pb-include partial="…" /> instead of Handlebars partials`);
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object' && value !== n.loc) visit(value);
    }
  };
  visit(ast);
}

/** Reads the body, expands includes, and places it into the layout's slot, keeping line origins. */
async function compose(dir: string, bodyFile: string, layoutFile: string, ext: string): Promise<SourceLine[]> {
  const body = await expand(dir, bodyFile, ext, []);
  const layout = await expand(dir, layoutFile, ext, []);
  const slots = layout.filter((l) => SLOT_RE.test(l.text));
  if (slots.length !== 1) throw new TemplateError(`${layoutFile}: needs exactly one <pb-slot name="body" /> line, found ${slots.length}`);
  const lines = layout.flatMap((l) => (SLOT_RE.test(l.text) ? body : [l]));
  const leftover = lines.find((l) => l.text.includes('<pb-'));
  if (leftover) throw new TemplateError(`${leftover.file}:${leftover.line}: unresolved or misplaced directive (a directive stands alone on its line)`);
  return lines;
}

async function expand(dir: string, file: string, ext: string, stack: string[]): Promise<SourceLine[]> {
  if (stack.includes(file)) throw new TemplateError(`${file}: include cycle (${[...stack, file].join(' → ')})`);
  let content: string;
  try {
    content = await fs.readFile(file, 'utf8');
  } catch (err) {
    const from = stack.length ? ` (included from ${stack[stack.length - 1]})` : '';
    throw new TemplateError(`${file}: cannot read template${from}: ${errorMessage(err)}`);
  }
  const out: SourceLine[] = [];
  const rows = content.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  for (const [i, text] of rows.entries()) {
    const include = INCLUDE_RE.exec(text);
    if (include) out.push(...(await expand(dir, path.join(dir, 'partials', `${include[1]}${ext}`), ext, [...stack, file])));
    else out.push({ text, file, line: i + 1 });
  }
  return out;
}

function locate(lines: SourceLine[], line: number | undefined, fallback: string): string {
  const origin = line ? lines[line - 1] : undefined;
  return origin ? `${origin.file}:${origin.line}` : fallback;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
