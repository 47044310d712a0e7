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
 *
 * `<pb-each list="papers" partial="<name>" />` renders the partial once per entry of the list (the
 * digest's paper cards). The template is cut there at compile time into a head, an item and a tail,
 * all compiled by Handlebars as usual. A rendered HTML card depends only on its paper and match, so
 * it is rendered once and shared by every email that shows it (and so is its quoted-printable
 * encoding, see mime-builder.ts): most of a digest's bytes are cards. For that reason an HTML item
 * sees only its entry's fields; a plain-text item also gets `n`, its position (1, 2, …).
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
  return finishText(wrapLines(text, width));
}

/** Conditionals in templates can leave runs of blank lines; keep at most one. */
function finishText(wrapped: string): string {
  return `${wrapped.replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/**
 * The line-by-line part of wrapText: lines are wrapped independently, so text cut after a line
 * break wraps piece by piece to the same result (the digest's cards are wrapped once, cached).
 */
function wrapLines(text: string, width = TEXT_WIDTH): string {
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
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// View models: everything the templates see is cleaned here, URLs are http(s) or null
// ---------------------------------------------------------------------------------------------

interface PaperCardModel {
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

function paperModel(p: PaperCardView): PaperCardModel {
  const topics = (Array.isArray(p.topics) ? p.topics : []).map(cleanText).filter((t) => t !== '');
  const url = safeHttpUrl(p.url);
  const pdfUrl = safeHttpUrl(p.pdfUrl);
  const codeUrl = safeHttpUrl(p.codeUrl);
  const projectUrl = safeHttpUrl(p.projectUrl);
  const upvotes = typeof p.upvotes === 'number' && Number.isInteger(p.upvotes) && p.upvotes > 0 ? p.upvotes : null;
  return {
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

function digestModel(view: DigestEmailView, papers: PaperCardModel[]): DigestModel {
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

/** A compiled template; one with a `<pb-each>` is cut there into head, item (once per entry) and tail. */
interface CompiledTemplate {
  head: TemplateFn;
  each: { list: string; item: TemplateFn; tail: TemplateFn } | null;
}

interface CompiledEmail {
  html: CompiledTemplate;
  text: CompiledTemplate;
}

/** The list each kind's templates must repeat with `<pb-each>` (the renderer relies on it), if any. */
const EACH_LIST: Record<EmailKind, string | null> = { digest: 'papers', confirm: null };

/** The email kinds this renderer knows; each needs `<kind>.mjml` and `<kind>.txt.hbs`. */
const EMAIL_KINDS = ['digest', 'confirm'] as const;
type EmailKind = (typeof EMAIL_KINDS)[number];

const WARM_UP: Record<EmailKind, object> = {
  digest: digestModel(WARM_UP_DIGEST, WARM_UP_DIGEST.papers.map(paperModel)),
  confirm: confirmModel(WARM_UP_CONFIRM),
};

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
const EACH_RE = /^\s*<pb-each\s+list="([a-zA-Z][a-zA-Z0-9]*)"\s+partial="([a-z0-9][a-z0-9-]*)"\s*\/>\s*$/;
const SLOT_RE = /^\s*<pb-slot\s+name="body"\s*\/>\s*$/;
const TOKEN_RE = /\{\{[\s\S]*?\}\}/g;

/**
 * Distinct cards kept rendered (~9 KB of heap each). A card is keyed by its paper and match (the
 * "why" and topics), so a digest issue needs about as many as it has papers times the ways they
 * matched: a daily-papers issue has 50–300 papers (the send bench uses 2,000, one way each).
 */
const CARD_CACHE_SIZE = 2000;
/** Plain-text cards kept, over all cards and positions (~1–2 KB each). */
const TEXT_CARD_CACHE_SIZE = 10_000;

interface RenderedCard {
  /** What the card was rendered from: a cache hit must match it field by field. */
  source: PaperCardView;
  model: PaperCardModel;
  html: string;
  /** The plain-text card at each position it was shown at, wrapped (index n - 1). */
  text: string[];
}

/** A digest whose HTML is kept in pieces, for the MIME builder to encode each card once. */
export interface RenderedDigestParts {
  subject: string;
  /** head + cards + tail is the HTML; each piece ends with a line break except perhaps the tail. */
  html: { head: string; cards: readonly string[]; tail: string };
  text: string;
}

export class TemplateRenderer {
  private readonly cards = new Map<string, RenderedCard>();
  private textCards = 0;

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
      for (const [part, template, file] of [['html', html, `${kind}.mjml`], ['text', text, `${kind}.txt.hbs`]] as const) {
        try {
          if ((template.each?.list ?? null) !== EACH_LIST[kind]) {
            throw new Error(EACH_LIST[kind] ? `needs one <pb-each list="${EACH_LIST[kind]}" partial="…" /> line` : 'has no list to repeat with <pb-each>');
          }
          renderWhole(template, WARM_UP[kind], part === 'text');
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
    const { subject, html, text } = this.renderDigestParts(view);
    return { subject, html: html.head + html.cards.join('') + html.tail, text };
  }

  /** renderDigest with the HTML in pieces; the cards are shared with other recipients' emails. */
  renderDigestParts(view: DigestEmailView): RenderedDigestParts {
    const { html, text } = this.emails.get('digest')!;
    const cards = (view.papers ?? []).map((p) => this.card(p, html.each!.item));
    const model = digestModel(view, cards.map((c) => c.model));
    const textCards = cards.map((c, i) => c.text[i] ?? this.textCard(c, i, text.each!.item));
    return {
      subject: model.subject,
      html: { head: html.head(model), cards: cards.map((c) => c.html), tail: html.each!.tail(model) },
      text: finishText(wrapLines(text.head(model)) + textCards.join('') + wrapLines(text.each!.tail(model))),
    };
  }

  renderConfirm(view: ConfirmEmailView): RenderedEmail {
    const model = confirmModel(view);
    const email = this.emails.get('confirm')!;
    return { subject: model.subject, html: renderWhole(email.html, model, false), text: wrapText(renderWhole(email.text, model, true)) };
  }

  /** The plain-text card at position i (its number is i + 1), wrapped; kept while there is room. */
  private textCard(card: RenderedCard, i: number, item: TemplateFn): string {
    const text = wrapLines(item({ ...card.model, n: i + 1 }));
    if (this.textCards < TEXT_CARD_CACHE_SIZE && this.cards.get(cardKey(card.source)) === card) {
      card.text[i] = text;
      this.textCards++;
    }
    return text;
  }

  /** A paper's card, rendered once per distinct paper and match (everything paperModel reads). */
  private card(p: PaperCardView, item: TemplateFn): RenderedCard {
    // A short key (hashing whole abstracts cost more than rendering saved); the entry is then
    // compared field by field, so two cards that share a key are told apart, never mixed up.
    const key = cardKey(p);
    let card = this.cards.get(key);
    if (card === undefined || !sameCard(card.source, p)) {
      const model = paperModel(p);
      const source = { ...p, topics: Array.isArray(p.topics) ? [...p.topics] : p.topics };
      if (card !== undefined) this.forget(key, card);
      // Oldest first out: a new digest issue replaces the last one's cards.
      else if (this.cards.size >= CARD_CACHE_SIZE) this.forget(...this.cards.entries().next().value!);
      card = { source, model, html: item(model), text: [] };
      this.cards.set(key, card);
    }
    return card;
  }

  private forget(key: string, card: RenderedCard): void {
    this.cards.delete(key);
    this.textCards -= Object.keys(card.text).length;
  }
}

const cardKey = (p: PaperCardView) => `${p.title}\n${p.url}\n${p.why}`;

/** Whether two views make the same card (every field paperModel reads). */
function sameCard(a: PaperCardView, b: PaperCardView): boolean {
  if (
    a.title !== b.title || a.url !== b.url || a.authors !== b.authors || a.abstract !== b.abstract || a.why !== b.why ||
    a.pdfUrl !== b.pdfUrl || a.codeUrl !== b.codeUrl || a.projectUrl !== b.projectUrl || a.upvotes !== b.upvotes
  ) {
    return false;
  }
  if (!Array.isArray(a.topics) || !Array.isArray(b.topics)) return a.topics === b.topics;
  return a.topics.length === b.topics.length && a.topics.every((t, i) => t === b.topics[i]);
}

/** A whole template, items included (text items get their position `n`). */
function renderWhole(t: CompiledTemplate, model: object, numbered: boolean): string {
  if (!t.each) return t.head(model);
  const entries = (model as Record<string, unknown>)[t.each.list];
  if (!Array.isArray(entries)) throw new TypeError(`"${t.each.list}" is not a list`);
  const item = t.each.item;
  const items = entries.map((e: object, i) => (numbered ? item({ ...e, n: i + 1 }) : item(e)));
  return t.head(model) + items.join('') + t.each.tail(model);
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

async function compileHtml(hbs: typeof Handlebars, dir: string, kind: EmailKind): Promise<CompiledTemplate> {
  const bodyFile = path.join(dir, `${kind}.mjml`);
  const lines = await compose(dir, bodyFile, path.join(dir, 'layouts', 'base.mjml'), '.mjml');
  const each = findEach(lines);
  // MJML compiles the whole document, so the item's place is kept by a comment (dropped by Handlebars).
  const marker = each ? `{{!-- pb-each ${each.list} --}}` : '';
  if (each) lines[each.index] = { ...lines[each.index], text: marker };
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
  html = stripIndentation(html, bodyFile);
  const compiled = (src: string) => compileChecked(hbs, src, { noEscape: false }, () => `${bodyFile} (compiled HTML)`);
  if (!each) return { head: compiled(html), each: null };
  const at = html.indexOf(`\n${marker}\n`);
  if (at === -1 || html.indexOf(marker) !== at + 1) {
    throw new TemplateError(`${each.file}:${each.line}: <pb-each> must stand on its own line inside an mj-text`);
  }
  // The item is HTML for an mj-text (MJML never sees it): it is compiled on its own, once.
  const itemFile = path.join(dir, 'partials', `${each.partial}.mjml`);
  const itemLines = await expand(dir, itemFile, '.mjml', [bodyFile]);
  const item = compileChecked(hbs, stripIndentation(`${itemLines.map((l) => l.text).join('\n')}\n`, itemFile), { noEscape: false }, (line) =>
    locate(itemLines, line, itemFile),
  );
  return { head: compiled(html.slice(0, at + 1)), each: { list: each.list, item, tail: compiled(html.slice(at + marker.length + 2)) } };
}

/**
 * MJML indents its output: about a sixth of a digest's HTML, encoded and sent again for every
 * recipient. HTML collapses a run of whitespace to one space, so the spaces and tabs next to a line
 * break can go as long as the break itself stays; only preformatted text would show the difference.
 */
function stripIndentation(html: string, bodyFile: string): string {
  if (/<(?:pre|textarea)\b|white-space\s*:\s*pre/i.test(html)) {
    throw new TemplateError(`${bodyFile}: preformatted text is not supported (the compiled HTML has its indentation removed)`);
  }
  return html.replace(/^[ \t]+|[ \t]+$/gm, '').replace(/\n{2,}/g, '\n');
}

async function compileText(hbs: typeof Handlebars, dir: string, kind: EmailKind): Promise<CompiledTemplate> {
  const bodyFile = path.join(dir, `${kind}.txt.hbs`);
  const lines = await compose(dir, bodyFile, path.join(dir, 'layouts', 'base.txt.hbs'), '.txt.hbs');
  // text/plain is not HTML: entity-escaping would show "&amp;" to readers. Values are still cleaned
  // of control characters in the view model, and {{{ }}} stays banned so the templates read the same.
  const compiled = (part: SourceLine[], fallback: string, end = ''): TemplateFn =>
    compileChecked(hbs, part.map((l) => l.text).join('\n') + end, { noEscape: true }, (line) => locate(part, line, fallback));
  const each = findEach(lines);
  if (!each) return { head: compiled(lines, bodyFile), each: null };
  const itemFile = path.join(dir, 'partials', `${each.partial}.txt.hbs`);
  const itemLines = await expand(dir, itemFile, '.txt.hbs', [bodyFile]);
  // Every piece but the tail ends with a line break, so the pieces wrap independently (wrapLines).
  return {
    head: compiled(lines.slice(0, each.index), bodyFile, each.index > 0 ? '\n' : ''),
    each: { list: each.list, item: compiled(itemLines, itemFile, '\n'), tail: compiled(lines.slice(each.index + 1), bodyFile) },
  };
}

/** The template's `<pb-each>` line, if any (at most one). */
function findEach(lines: SourceLine[]): { index: number; list: string; partial: string; file: string; line: number } | null {
  const found = lines.flatMap((l, index) => {
    const m = EACH_RE.exec(l.text);
    return m ? [{ index, list: m[1], partial: m[2], file: l.file, line: l.line }] : [];
  });
  if (found.length > 1) throw new TemplateError(`${found[1].file}:${found[1].line}: only one <pb-each> per template`);
  return found[0] ?? null;
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
  const leftover = lines.find((l) => l.text.includes('<pb-') && !EACH_RE.test(l.text));
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
  // A parse error at the end of a template (an unclosed block) is reported on the line after it.
  const origin = line ? lines[Math.min(line, lines.length) - 1] : undefined;
  return origin ? `${origin.file}:${origin.line}` : fallback;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
