import { type Dirent, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { simpleParser, type AddressObject, type HeaderValue } from 'mailparser';

/**
 * Reads the dev outbox written by OutboxSink and renders a small server-side UI for it.
 * Every dynamic value on the pages goes through `escapeHtml`; the email's own HTML is shown only
 * inside a sandboxed iframe (no scripts, opaque origin) under a script-free CSP.
 */

export interface OutboxListItem {
  /** File name without `.eml`. */
  id: string;
  date: Date;
  from: string;
  to: string;
  subject: string;
  /** Bytes on disk. */
  size: number;
}

export interface OutboxMessage {
  id: string;
  subject: string;
  from: string;
  to: string;
  date: Date;
  html: string | null;
  text: string | null;
  /** Header name (as written) → value; repeated headers are joined with a newline. */
  headers: Record<string, string>;
  size: number;
}

export class InvalidMessageIdError extends Error {
  override readonly name = 'InvalidMessageIdError';
  constructor() {
    super('Invalid message id');
  }
}

export class MessageNotFoundError extends Error {
  override readonly name = 'MessageNotFoundError';
  constructor() {
    super('Message not found');
  }
}

/** A plain file name: letters, digits, '-' and '_', nothing that can climb or name a directory. */
const MESSAGE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const EML_FILE_RE = /^([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.eml$/;

export function isValidMessageId(id: unknown): id is string {
  return typeof id === 'string' && MESSAGE_ID_RE.test(id);
}

function messagePath(outboxDir: string, id: unknown): string {
  if (!isValidMessageId(id)) throw new InvalidMessageIdError();
  return path.join(path.resolve(outboxDir), `${id}.eml`);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

const HEADER_CHUNK = 16 * 1024;
const HEADER_MAX = 256 * 1024;
const LIST_CONCURRENCY = 32;
// Stored messages never change (written once, renamed into place), so their summaries can be cached.
const summaryCache = new Map<string, OutboxListItem>();
const SUMMARY_CACHE_MAX = 20_000;

/** Reads only the header block of a message (up to the first blank line). */
async function readHeaderBlock(file: string): Promise<{ header: Buffer; size: number }> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < Math.min(size, HEADER_MAX)) {
      const buf = Buffer.alloc(HEADER_CHUNK);
      const { bytesRead } = await handle.read(buf, 0, HEADER_CHUNK, total);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      const sofar = Buffer.concat(chunks);
      const end = headerEnd(sofar);
      if (end >= 0) return { header: sofar.subarray(0, end), size };
    }
    return { header: Buffer.concat(chunks), size };
  } finally {
    await handle.close();
  }
}

function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Messages in the outbox, newest first (ids sort by arrival time). Parses headers only. */
export async function listMessages(outboxDir: string): Promise<OutboxListItem[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(outboxDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = entries
    .filter((e) => e.isFile())
    .map((e) => EML_FILE_RE.exec(e.name)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort()
    .reverse();
  const items = await mapLimit(ids, LIST_CONCURRENCY, async (id): Promise<OutboxListItem | null> => {
    const file = path.join(path.resolve(outboxDir), `${id}.eml`);
    const cached = summaryCache.get(file);
    if (cached) return { ...cached };
    let block: { header: Buffer; size: number };
    try {
      block = await readHeaderBlock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted meanwhile
      throw err;
    }
    const parsed = await simpleParser(block.header, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    const date = parsed.date ?? (await fs.stat(file).then((s) => s.mtime, () => new Date(0)));
    const item = { id, date, from: addressText(parsed.from), to: addressText(parsed.to), subject: parsed.subject ?? '', size: block.size };
    if (summaryCache.size >= SUMMARY_CACHE_MAX) summaryCache.clear();
    summaryCache.set(file, item);
    return { ...item };
  });
  return items.filter((i): i is OutboxListItem => i !== null);
}

function headerValueText(value: HeaderValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toUTCString();
  if (value && typeof value === 'object' && 'text' in value && typeof value.text === 'string') return value.text;
  return null;
}

/** One message, fully parsed. Rejects ids that are not plain file names. */
export async function readMessage(outboxDir: string, id: string): Promise<OutboxMessage> {
  const raw = await readRawMessage(outboxDir, id);
  const parsed = await simpleParser(raw, { skipTextToHtml: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : key;
    // mailparser decodes most headers (encoded words, addresses) but folds List-* into one
    // structured value; those, and anything else it structures, are shown as written.
    const value = headerValueText(parsed.headers.get(key)) ?? line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    headers[name] = name in headers ? `${headers[name]}\n${value}` : value;
  }
  return {
    id,
    subject: parsed.subject ?? '',
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    date: parsed.date ?? new Date(0),
    html: typeof parsed.html === 'string' ? parsed.html : null,
    text: parsed.text ?? null,
    headers,
    size: raw.length,
  };
}

/** The stored .eml bytes, for a "raw" download link. Same id rules as readMessage. */
export async function readRawMessage(outboxDir: string, id: string): Promise<Buffer> {
  const file = messagePath(outboxDir, id);
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MessageNotFoundError();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content and for quoted attribute values (including srcdoc). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/**
 * CSP for both pages; the controller should also send it as a header. No script anywhere; the
 * srcdoc iframe inherits it, so even a sandbox bug would not let the email run script.
 */
export const OUTBOX_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; frame-src 'self'; base-uri 'none'; form-action 'none'";

export interface OutboxPageOptions {
  /** Where the outbox pages are mounted, default '/dev/outbox'. Message pages live at `<basePath>/<id>`, raw files at `<basePath>/<id>.eml`. */
  basePath?: string;
}

function base(opts: OutboxPageOptions | undefined): string {
  return (opts?.basePath ?? '/dev/outbox').replace(/\/+$/, '');
}

const STYLE = `
  :root { color-scheme: light dark; --bg:#f6f7f9; --fg:#1c2330; --muted:#5f6b7a; --line:#e1e4e8; --card:#fff; --accent:#3442b8; --warn:#a15c00; }
  @media (prefers-color-scheme: dark) { :root { --bg:#0f1216; --fg:#e8ebf0; --muted:#9aa4b1; --line:#2a3039; --card:#171b21; --accent:#a9b5ff; --warn:#f0b45a; } }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.5 -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
  main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 60px; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 28px 0 10px; }
  a { color: var(--accent); }
  .muted { color: var(--muted); }
  table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
  tr:last-child td { border-bottom: 0; }
  td.num, th.num { text-align: right; white-space: nowrap; }
  td.nowrap { white-space: nowrap; }
  .kv th { width: 210px; text-transform: none; letter-spacing: 0; font-size: 13px; }
  .kv td { word-break: break-all; white-space: pre-wrap; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  .missing { color: var(--warn); font-family: inherit; }
  pre { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; white-space: pre-wrap; word-break: break-word; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; }
  iframe { width: 100%; height: 900px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
  nav { margin-bottom: 16px; }
  details summary { cursor: pointer; margin: 28px 0 10px; font-weight: 600; }
  .empty { padding: 40px; text-align: center; background: var(--card); border: 1px dashed var(--line); border-radius: 8px; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(OUTBOX_PAGE_CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatDate(date: Date): string {
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function renderOutboxIndexPage(list: OutboxListItem[], opts?: OutboxPageOptions): string {
  const root = base(opts);
  const rows = list
    .map(
      (m) => `<tr>
  <td class="nowrap muted">${escapeHtml(formatDate(m.date))}</td>
  <td>${escapeHtml(m.from)}</td>
  <td>${escapeHtml(m.to)}</td>
  <td><a href="${escapeHtml(`${root}/${encodeURIComponent(m.id)}`)}">${escapeHtml(m.subject || '(no subject)')}</a></td>
  <td class="num muted">${escapeHtml(formatSize(m.size))}</td>
</tr>`,
    )
    .join('\n');
  const body = list.length
    ? `<table>
<thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th class="num">Size</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
    : `<div class="empty muted">No messages yet. Mail sent to the dev SMTP sink shows up here.</div>`;
  return page(
    'Outbox',
    `<h1>Outbox</h1>
<p class="muted">${escapeHtml(`${list.length} ${list.length === 1 ? 'message' : 'messages'}`)}, newest first. Development only: nothing here was delivered.</p>
${body}`,
  );
}

/** Headers worth seeing at a glance; the List-* pair is required on every digest (RFC 8058). */
const KEY_HEADERS = ['From', 'To', 'Subject', 'Date', 'List-Unsubscribe', 'List-Unsubscribe-Post'];

export function renderOutboxMessagePage(msg: OutboxMessage, opts?: OutboxPageOptions): string {
  const root = base(opts);
  const byLower = new Map(Object.entries(msg.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const keyRows = KEY_HEADERS.map((name) => {
    const value = byLower.get(name.toLowerCase());
    const cell = value === undefined ? '<span class="missing">missing</span>' : escapeHtml(value);
    return `<tr><th>${escapeHtml(name)}</th><td>${cell}</td></tr>`;
  }).join('\n');
  const allRows = Object.entries(msg.headers)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('\n');
  const html =
    msg.html === null
      ? '<p class="muted">This message has no HTML part.</p>'
      : // An empty `sandbox` applies every restriction: no scripts, no forms, no popups, opaque origin.
        `<iframe sandbox="" referrerpolicy="no-referrer" title="HTML part" srcdoc="${escapeHtml(msg.html)}"></iframe>`;
  const text = msg.text === null ? '<p class="muted">This message has no text part.</p>' : `<pre>${escapeHtml(msg.text)}</pre>`;
  return page(
    msg.subject || '(no subject)',
    `<nav><a href="${escapeHtml(`${root}/`)}">← Outbox</a></nav>
<h1>${escapeHtml(msg.subject || '(no subject)')}</h1>
<p class="muted">${escapeHtml(formatDate(msg.date))} · ${escapeHtml(formatSize(msg.size))} · <a href="${escapeHtml(`${root}/${encodeURIComponent(msg.id)}.eml`)}" download>Raw .eml</a></p>
<table class="kv">
${keyRows}
</table>
<h2>HTML part</h2>
${html}
<h2>Text part</h2>
${text}
<details>
<summary>All headers</summary>
<table class="kv">
${allRows}
</table>
</details>`,
  );
}
