import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import MimeNode from 'nodemailer/lib/mime-node';
import { buildHeaderBlock, buildMime, encodeQuotedPrintable } from './mime-builder';

// libqp is mailparser's quoted-printable decoder (a dependency of a dependency: test only).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const libqp = require('libqp') as { decode(s: string): Buffer };

const decode = (qp: Buffer) => libqp.decode(qp.toString('latin1')).toString('utf8');
/** What the encoder promises to round-trip: line breaks come back as CRLF. */
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

function checkLines(qp: Buffer): void {
  for (const line of qp.toString('latin1').split('\r\n')) {
    expect(line.length).toBeLessThanOrEqual(76);
    expect(line.startsWith('.')).toBe(false);
    expect(/[ \t]$/.test(line)).toBe(false);
    expect(/[^\x20-\x7e\t]/.test(line)).toBe(false);
  }
}

describe('encodeQuotedPrintable', () => {
  const piece = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom(' ', '\t', '\n', '\r\n', '\r', '.', '=', '..\n.', ' \n', 'é', '“', '😀', 'a'.repeat(80), '='.repeat(40), 'é'.repeat(40)),
  );
  it('round-trips any text (line breaks as CRLF), with valid lines', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
        const input = parts.join('');
        const qp = encodeQuotedPrintable(input);
        expect(decode(qp)).toBe(crlf(input).replace(/\r(?!\n)/g, '\r'));
        checkLines(qp);
      }),
      { numRuns: 500 },
    );
  });

  it('never splits a UTF-8 character across a soft line break', () => {
    const qp = encodeQuotedPrintable(`${'x'.repeat(70)}😀😀😀 “quoted” é`).toString('latin1');
    for (const line of qp.split('=\r\n')) expect(() => decodeURIComponent(line.replace(/=([0-9A-F]{2})/g, '%$1'))).not.toThrow();
  });
});

describe('encodeQuotedPrintable of a body in pieces', () => {
  const line = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('.', ' ', '\t', '=', '“', '😀', 'é'.repeat(30), 'x'.repeat(90))), { maxLength: 8 });
  // A piece that starts a line and ends with a line break (what a digest's cards are).
  const piece = fc.array(line.map((l) => l.join('')), { minLength: 1, maxLength: 5 }).map((ls) => `${ls.join('\n')}\n`);

  it('encodes exactly as the whole string, shared pieces from the cache or not', () => {
    fc.assert(
      fc.property(piece, fc.array(piece, { maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 200 }), (head, shared, tail) => {
        const whole = encodeQuotedPrintable(head + shared.join('') + tail);
        expect(encodeQuotedPrintable({ head, shared, tail })).toEqual(whole);
        expect(encodeQuotedPrintable({ head, shared, tail })).toEqual(whole); // now every piece is cached
        checkLines(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('joins head and tail when nothing is shared, and refuses pieces that do not end a line', () => {
    expect(encodeQuotedPrintable({ head: 'a ', shared: [], tail: 'b' })).toEqual(encodeQuotedPrintable('a b'));
    expect(() => encodeQuotedPrintable({ head: 'a', shared: ['b\n'], tail: '' })).toThrow(/line/);
    expect(() => encodeQuotedPrintable({ head: 'a\n', shared: ['b '], tail: 'c' })).toThrow(/line/);
  });
});

describe('buildMime', () => {
  it('is the message nodemailer would build, as a mail parser reads it', async () => {
    const message = {
      from: 'Paperboy <digest@paperboy.localhost>',
      to: 'ada@example.org',
      subject: '10 new papers for “graph neural networks” and 1 more alert',
      html: '<!doctype html>\n<html><body>\n  <p style="color: #333;">Héllo = “world”</p>\n.\n<a href="https://x.org/?a=1&amp;b=2">link</a>\n</body></html>\n',
      text: 'Hello “world” é\n\n.leading dot\ntrailing space \n' + 'long '.repeat(40) + '\n',
      messageId: '<delivery-1.abc@paperboy.localhost>',
      headers: { 'List-Unsubscribe': '<https://papers.example.org/unsubscribe/x>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Paperboy-Delivery': '1' },
    };
    const ours = await simpleParser(buildMime(message));
    // the same HTML in pieces (a digest's cards are shared with other messages)
    const [head, ...rest] = message.html.split(/(?<=\n)/);
    const pieces = await simpleParser(buildMime({ ...message, html: { head, shared: rest.slice(0, -1), tail: rest[rest.length - 1] } }));
    expect(pieces.html).toBe(ours.html);
    const theirs = await simpleParser(await new MailComposer({ ...message, textEncoding: 'quoted-printable' }).compile().build());
    expect(ours.html).toBe(theirs.html);
    expect(ours.text).toBe(theirs.text);
    expect(ours.subject).toBe(message.subject);
    expect(ours.messageId).toBe(message.messageId);
    for (const h of ['list-unsubscribe', 'list-unsubscribe-post', 'x-paperboy-delivery', 'from', 'to', 'mime-version']) {
      expect([h, JSON.stringify(ours.headers.get(h))]).toEqual([h, JSON.stringify(theirs.headers.get(h))]);
    }
  });
});

describe('buildHeaderBlock', () => {
  type Fields = Parameters<typeof buildHeaderBlock>[0];
  /** nodemailer's own header block for the same fields, date and boundary. */
  const mimeNodeHeaders = (m: Fields, date: number, boundary: string) => {
    const root = new MimeNode('multipart/alternative');
    root.setHeader({ ...m.headers, From: m.from, To: m.to, Subject: m.subject, 'Message-ID': m.messageId });
    root.setHeader('Date', new Date(date).toUTCString().replace(/GMT/, '+0000'));
    root.setHeader('Content-Type', `multipart/alternative; boundary="${boundary}"`);
    return root.buildHeaders();
  };

  const local = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_%+-]{1,20}(\.[A-Za-z0-9_%+-]{1,10}){0,2}$/), fc.stringMatching(/^[A-Za-z0-9._%+-]{1,40}$/));
  const domain = fc.oneof(fc.stringMatching(/^([a-z0-9]{1,10}(-[a-z0-9]{1,5})?\.){1,3}[a-z]{2,6}$/), fc.stringMatching(/^[A-Za-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}$/));
  const address = fc.oneof(
    fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`),
    fc.constantFrom('ada@bücher.de', 'Ada.Lovelace@EXAMPLE.ORG', '"ada lovelace"@example.org', 'ada(comment)@example.org', 'a,b@example.org', 'ada@[127.0.0.1]', '  ada@example.org ', 'ünïcødé@example.org', 'x@y'),
  );
  const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.constantFrom('', ' ', '10 new papers for “graph neural networks” and 1 more alert', 'a'.repeat(200), 'plain-ascii-value', '=?UTF-8?Q?x?=', 'tab\there', 'line\nbreak', '"', 'x=?y', 'a=?UTF-8?Q?b?=', '<a@b>', '\u2028'));
  const url = fc.tuple(domain, fc.stringMatching(/^[A-Za-z0-9._~-]{0,300}$/)).map(([d, t]) => `<https://${d}/unsubscribe/${t}>`);
  const fields: fc.Arbitrary<Fields> = fc.record({
    from: fc.oneof(address, fc.constantFrom('Paperboy <digest@paperboy.localhost>', '"Paper, Boy" <digest@example.org>', 'Pâperboy <digest@example.org>')),
    to: address,
    subject: text,
    messageId: fc.oneof(
      fc.tuple(fc.nat(), fc.stringMatching(/^[0-9a-f]{16}$/), domain).map(([n, h, d]) => `<delivery-${n}.${h}@${d}>`),
      fc.constantFrom('no-brackets@example.org', '<with space@example.org>', '<ünï@example.org>'),
    ),
    headers: fc.record({
      'List-Unsubscribe': fc.oneof(url, text),
      'List-Unsubscribe-Post': fc.constantFrom('List-Unsubscribe=One-Click'),
      'List-Id': fc.oneof(fc.constantFrom('Paperboy paper alerts <alerts.paperboy.localhost>'), text),
      'X-Paperboy-Delivery': fc.oneof(fc.nat().map(String), text),
    }),
  });

  it('is byte for byte the header block nodemailer writes', () => {
    fc.assert(
      fc.property(fields, fc.integer({ min: 0, max: 4102444800 }), (m, seconds) => {
        const date = seconds * 1000;
        const boundary = '--_Pb-0123456789abcdef-Part_1';
        expect(buildHeaderBlock(m, date, boundary)).toBe(mimeNodeHeaders(m, date, boundary));
        expect(buildHeaderBlock(m, date, boundary)).toBe(mimeNodeHeaders(m, date, boundary)); // recurring lines from the cache
      }),
      { numRuns: 1000 },
    );
  });

  it('gives every message its own boundary', () => {
    const message = { from: 'a@example.org', to: 'b@example.org', subject: 's', html: '<p>x</p>\n', text: 'x\n', messageId: '<1@example.org>', headers: {} };
    const boundary = (b: Buffer) => /boundary="([^"]+)"/.exec(b.toString('latin1'))![1];
    expect(boundary(buildMime(message))).not.toBe(boundary(buildMime(message)));
  });
});
