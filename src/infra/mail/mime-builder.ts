import { randomBytes } from 'node:crypto';
import { buildHeaderValue, foldLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';

const HEX = new Uint8Array(Buffer.from('0123456789ABCDEF', 'latin1'));
const MAX_CONTENT = 75; // RFC 2045: lines of at most 76 characters, the soft-break '=' included
/** 1 for the bytes written as themselves: printable ASCII except '=' (space and tab are decided in context). */
const LITERAL = new Uint8Array(256);
for (let b = 0x21; b <= 0x7e; b++) LITERAL[b] = b === 0x3d ? 0 : 1;

/** Scratch space reused by every call (encoding is synchronous): input bytes, and output. */
let scratchIn: Uint8Array = new Uint8Array(256 * 1024);
let scratchOut: Uint8Array = new Uint8Array(1024 * 1024);

function ensure(buf: Uint8Array, size: number): Uint8Array {
  return buf.length >= size ? buf : new Uint8Array(Math.max(size, buf.length * 2));
}

/**
 * Quoted-printable (RFC 2045) of `input` written into `out` from `o`; returns the new end.
 * One pass over the UTF-8 bytes: line breaks become CRLF, `=`, controls and 8-bit bytes become
 * `=XX`, whitespace before a line break is encoded, lines are soft-broken at 76 characters without
 * splitting a `=XX` or a UTF-8 sequence, and no line starts with a dot (`=2E`), so SMTP never has
 * to dot-stuff the body. (nodemailer's encoder is a stream that wraps lines with regular
 * expressions: several times slower on an 80 KB digest.) `out` must hold 3.2 × the input bytes.
 */
function encodeInto(input: string, out: Uint8Array, o: number): number {
  scratchIn = ensure(scratchIn, input.length * 3);
  const src = scratchIn;
  const len = Buffer.from(src.buffer, src.byteOffset, src.length).write(input, 0, 'utf8');
  let line = 0;
  for (let i = 0; i < len; i++) {
    const b = src[i];
    // the common case: a printable character with room on the line
    if (LITERAL[b] === 1 && line < MAX_CONTENT && (b !== 0x2e || line !== 0)) {
      out[o++] = b;
      line++;
      continue;
    }
    if (b === 0x0a || (b === 0x0d && i + 1 < len && src[i + 1] === 0x0a)) {
      if (b === 0x0d) i++;
      out[o++] = 0x0d;
      out[o++] = 0x0a;
      line = 0;
      continue;
    }
    let literal: boolean;
    if (b === 0x20 || b === 0x09) {
      const next = i + 1 < len ? src[i + 1] : 0x0a;
      literal = next !== 0x0a && next !== 0x0d;
    } else literal = LITERAL[b] === 1;
    // room for the whole UTF-8 sequence on this line, so a character is never split by a soft break
    const need = literal ? 1 : b >= 0xf0 ? 12 : b >= 0xe0 ? 9 : b >= 0xc0 ? 6 : 3;
    if (line + need > MAX_CONTENT) {
      out[o++] = 0x3d;
      out[o++] = 0x0d;
      out[o++] = 0x0a;
      line = 0;
    }
    if (literal && !(b === 0x2e && line === 0)) {
      out[o++] = b;
      line++;
    } else {
      out[o++] = 0x3d;
      out[o++] = HEX[b >> 4];
      out[o++] = HEX[b & 15];
      line += 3;
    }
  }
  return o;
}

/** Room `encodeInto` may need for `input`: every byte as =XX, plus a soft break per 25 of them. */
const encodedBound = (input: string) => input.length * 3 * 3.2 + 16;

/**
 * A body in pieces: `shared` pieces recur in other messages (a digest's paper cards) and are
 * encoded once. Every piece but the tail must end with a line break.
 */
export interface SharedPiecesBody {
  head: string;
  shared: readonly string[];
  tail: string;
}

/** Encoded shared pieces, by content (oldest out first; ~3 KB each for a paper card). */
const sharedEncodings = new Map<string, Buffer>();
const SHARED_ENCODINGS_MAX = 2000;

function encodeShared(piece: string): Buffer {
  let encoded = sharedEncodings.get(piece);
  if (encoded === undefined) {
    // A copy of the exact size, outside Node's shared pool (a kept slice would pin a whole 8 KB
    // slab): the encoder's buffer is sized for the worst case (~10× the text).
    const bytes = encodeQuotedPrintable(piece);
    encoded = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(encoded);
    if (sharedEncodings.size >= SHARED_ENCODINGS_MAX) sharedEncodings.delete(sharedEncodings.keys().next().value!);
    sharedEncodings.set(piece, encoded);
  }
  return encoded;
}

/**
 * Encodes `head + shared.join('') + tail` exactly as one string would be: a piece that starts a
 * line and ends with a line break encodes the same wherever it stands (the encoder's only state is
 * the position in the line, and it only looks one character ahead, at a trailing space or a CR).
 */
function encodePiecesInto(body: SharedPiecesBody, out: Uint8Array, o: number): number {
  if (body.shared.length === 0) return encodeInto(body.head + body.tail, out, o);
  if (!(body.head === '' || body.head.endsWith('\n')) || body.shared.some((p) => !p.endsWith('\n'))) {
    throw new Error('shared pieces must start a line and end with a line break');
  }
  o = encodeInto(body.head, out, o);
  for (const piece of body.shared) {
    const encoded = encodeShared(piece);
    out.set(encoded, o);
    o += encoded.length;
  }
  return encodeInto(body.tail, out, o);
}

const boundOf = (body: string | SharedPiecesBody) =>
  typeof body === 'string' ? encodedBound(body) : encodedBound(body.head) + encodedBound(body.tail) + body.shared.reduce((n, p) => n + encodedBound(p), 0);

export function encodeQuotedPrintable(input: string | SharedPiecesBody): Buffer {
  const out = new Uint8Array(boundOf(input));
  return Buffer.from(out.buffer, 0, typeof input === 'string' ? encodeInto(input, out, 0) : encodePiecesInto(input, out, 0));
}

export interface MimeMessage {
  from: string;
  to: string;
  subject: string;
  html: string | SharedPiecesBody;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

const PART_HEAD = (type: string) => Buffer.from(`Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`, 'latin1');
const TEXT_HEAD = PART_HEAD('text/plain');
const HTML_HEAD = PART_HEAD('text/html');
const CRLF = Buffer.from('\r\n', 'latin1');
const END = Buffer.from('--\r\n', 'latin1');

// ---------------------------------------------------------------------------------------------
// The top-level headers, exactly as nodemailer's MimeNode writes them (mime-builder.spec.ts
// compares the two byte for byte), without building a MimeNode per message: what recurs (From,
// Subject, List-ID, …) is written by MimeNode once and kept; what is new in every message (To,
// Message-ID, the List-Unsubscribe URL, the delivery id) is plain ASCII that MimeNode would only
// fold, so it is folded with nodemailer's own foldLines; anything else goes through MimeNode.
// ---------------------------------------------------------------------------------------------

/** The header lines MimeNode writes for one header: one-off, for values that are not plain. */
function mimeNodeLines(key: string, value: string): { key: string; lines: string } {
  const node = new MimeNode('text/plain', { baseBoundary: 'x' });
  node.setHeader(key, value);
  const all = node.buildHeaders().split(/\r\n(?![ \t])/);
  const wanted = key.toLowerCase().replace(/[\s\x00-\x20\x7f:]/g, '');
  const lines = all.find((l) => l.slice(0, l.indexOf(':')).toLowerCase() === wanted);
  return { key: lines ? lines.slice(0, lines.indexOf(':')) : key, lines: lines ?? '' };
}

/** Header names as MimeNode writes them (List-Id → List-ID). */
const headerKeys = new Map<string, string>();
function headerKey(key: string): string {
  let k = headerKeys.get(key);
  if (k === undefined) {
    k = mimeNodeLines(key, 'x').key;
    if (headerKeys.size < 1000) headerKeys.set(key, k);
  }
  return k;
}

/** Lines of the headers whose value recurs, by key and value (oldest out past the limit). */
const recurringLines = new Map<string, string>();
const RECURRING_LINES_MAX = 2000;
function recurringLine(key: string, value: string): string {
  const cacheKey = `${key}\n${value}`;
  let line = recurringLines.get(cacheKey);
  if (line === undefined) {
    line = headerLine(key, value);
    if (recurringLines.size >= RECURRING_LINES_MAX) recurringLines.delete(recurringLines.keys().next().value!);
    recurringLines.set(cacheKey, line);
  }
  return line;
}

/**
 * Printable ASCII without spaces, quotes or "=?": MimeNode writes such a value unchanged (no
 * encoded word), only folded.
 */
const isPlain = (value: string) => /^[\x21\x23-\x7e]+$/.test(value) && !value.includes('=?');
/**
 * An address that MimeNode's address parser and punycode leave as it is: a dot-atom local part, a
 * lowercase host name (punycode lowercases) of letter-or-digit labels with single hyphens (no
 * "xn--" forms) and a top-level label that starts with a letter (all-digit hosts are IPv4 to it).
 */
const PLAIN_ADDRESS = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[a-z0-9](?:-?[a-z0-9])*\.)+[a-z](?:-?[a-z0-9])*$/;
const ADDRESS_HEADERS = new Set(['From', 'Sender', 'To', 'Cc', 'Bcc', 'Reply-To']);
/** Headers whose value MimeNode puts in angle brackets when it lacks them. */
const BRACKETED_HEADERS = new Set(['Message-ID', 'In-Reply-To', 'Content-ID']);
/** Headers MimeNode gives a structure (or drops): always written by MimeNode. */
const STRUCTURED_HEADERS = new Set(['Content-Type', 'Content-Disposition', 'Date', 'References', 'OTP-Token']);

function headerLine(key: string, value: string): string {
  const k = headerKey(key);
  const plain =
    !STRUCTURED_HEADERS.has(k) &&
    (ADDRESS_HEADERS.has(k) ? PLAIN_ADDRESS.test(value) : isPlain(value) && (!BRACKETED_HEADERS.has(k) || /^<.*>$/.test(value)));
  return plain ? foldLines(`${k}: ${value}`, 76) : mimeNodeLines(key, value).lines;
}

/** Headers whose values repeat from message to message: their lines are kept. */
const RECURRING = new Set(['From', 'Subject', 'List-ID', 'List-Unsubscribe-Post', 'Reply-To', 'Sender']);

/** The Date header, made once per second. */
let dateSecond = -1;
let dateLine = '';
function dateHeader(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = foldLines(`Date: ${new Date(second * 1000).toUTCString().replace(/GMT/, '+0000')}`, 76);
  }
  return dateLine;
}

/** Multipart boundaries: a random part per process and a counter (MimeNode takes 8 random bytes per message). */
const BOUNDARY_BASE = randomBytes(8).toString('hex');
let boundaries = 0;
const nextBoundary = () => `--_Pb-${BOUNDARY_BASE}-Part_${(++boundaries).toString(36)}`;

/**
 * The header block of a multipart/alternative message, as MimeNode's buildHeaders() writes it for
 * the same headers, date and boundary: the caller's headers in order (a later key replaces an
 * earlier one in place), then From, To, Subject, Message-ID, Date, MIME-Version and Content-Type.
 * The last three are always the builder's own (the caller's are ignored), and Bcc is left out, as
 * MimeNode leaves it out.
 */
export function buildHeaderBlock(m: Pick<MimeMessage, 'from' | 'to' | 'subject' | 'messageId' | 'headers'>, date: number, boundary: string): string {
  const order = new Map<string, [string, string]>();
  for (const [key, value] of [...Object.entries(m.headers), ['From', m.from], ['To', m.to], ['Subject', m.subject], ['Message-ID', m.messageId]] as const) {
    order.set(headerKey(key), [key, value]);
  }
  const lines: string[] = [];
  for (const [k, [key, value]] of order) {
    if (k === 'Date' || k === 'MIME-Version' || k === 'Content-Type' || k.toLowerCase() === 'bcc') continue;
    const line = RECURRING.has(k) ? recurringLine(key, value) : headerLine(key, value);
    if (line !== '') lines.push(line); // MimeNode leaves out a header whose encoded value is blank
  }
  lines.push(dateHeader(date), 'MIME-Version: 1.0', foldLines(`Content-Type: ${buildHeaderValue({ value: 'multipart/alternative', params: { boundary } })}`, 76));
  return lines.join('\r\n');
}

/**
 * The complete RFC 5322 message (multipart/alternative: text, then HTML) as nodemailer would
 * build it for the same fields: the headers as MimeNode writes them (buildHeaderBlock), the two
 * bodies, which are 99% of the bytes, encoded here. The result is sent as a `raw` message (DKIM
 * signing still applies).
 */
export function buildMime(m: MimeMessage, date = Date.now()): Buffer {
  const boundaryText = nextBoundary();
  const head = Buffer.from(`${buildHeaderBlock(m, date, boundaryText)}\r\n\r\n--${boundaryText}`, 'utf8');
  const boundary = head.subarray(head.length - boundaryText.length - 2);
  scratchOut = ensure(scratchOut, head.length * 2 + TEXT_HEAD.length + HTML_HEAD.length + encodedBound(m.text) + boundOf(m.html) + 64);
  const out = scratchOut;
  let o = 0;
  const put = (b: Uint8Array) => {
    out.set(b, o);
    o += b.length;
  };
  put(head);
  put(CRLF);
  put(TEXT_HEAD);
  o = encodeInto(m.text, out, o);
  put(CRLF);
  put(boundary);
  put(CRLF);
  put(HTML_HEAD);
  o = typeof m.html === 'string' ? encodeInto(m.html, out, o) : encodePiecesInto(m.html, out, o);
  put(CRLF);
  put(boundary);
  put(END);
  return Buffer.from(out.subarray(0, o)); // one copy, of the exact size
}
