import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodemailer from 'nodemailer';
import { TemplateRenderer, digestSubject } from '../template-renderer';
import {
  InvalidMessageIdError,
  MessageNotFoundError,
  escapeHtml,
  listMessages,
  readMessage,
  readRawMessage,
  renderOutboxIndexPage,
  renderOutboxMessagePage,
} from './outbox-reader';
import { OutboxSink, newMessageId } from './outbox-sink';

const UNSUBSCRIBE = 'https://paperboy.example.org/unsubscribe/tok123';

describe('OutboxSink + outbox reader (real SMTP)', () => {
  let dir: string;
  let sink: OutboxSink;
  let transport: nodemailer.Transporter;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pb-outbox-'));
    sink = await OutboxSink.start({ port: 0, outboxDir: dir });
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
  });

  afterEach(async () => {
    transport.close();
    await sink.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  function send(subject: string, extra: Partial<nodemailer.SendMailOptions> = {}) {
    return transport.sendMail({
      from: '"Paperboy" <alerts@paperboy.example.org>',
      to: 'Ada <ada@example.org>',
      subject,
      text: `Plain body of ${subject}`,
      html: `<p>HTML body of <b>${subject}</b></p>`,
      headers: { 'List-Unsubscribe': `<${UNSUBSCRIBE}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      ...extra,
    });
  }

  it('listens on an ephemeral loopback port', () => {
    expect(sink.port).toBeGreaterThan(0);
    expect(sink.host).toBe('127.0.0.1');
  });

  it('stores each message as an .eml file and lists/reads them back, newest first', async () => {
    const first = await send('First message');
    const second = await send('Second message — ünïcödé');
    expect(first.response).toMatch(/^250 /);
    expect(second.accepted).toEqual(['ada@example.org']);

    const files = (await fs.readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^\d{8}T\d{9}Z-\d{6}-[0-9a-f]{8}\.eml$/.test(f))).toBe(true);
    const raw = await fs.readFile(path.join(dir, files[0]), 'utf8');
    expect(raw).toMatch(/^Subject: First message\r?$/m);

    const list = await listMessages(dir);
    expect(list.map((m) => m.subject)).toEqual(['Second message — ünïcödé', 'First message']);
    expect(list[0]).toMatchObject({
      id: files[1].replace(/\.eml$/, ''),
      from: '"Paperboy" <alerts@paperboy.example.org>',
      to: '"Ada" <ada@example.org>',
    });
    expect(list[0].size).toBe((await fs.stat(path.join(dir, files[1]))).size);
    expect(list[0].date).toBeInstanceOf(Date);

    const msg = await readMessage(dir, list[1].id);
    expect(msg.subject).toBe('First message');
    expect(msg.text?.trim()).toBe('Plain body of First message');
    expect(msg.html).toContain('<b>First message</b>');
    expect(msg.headers['List-Unsubscribe']).toBe(`<${UNSUBSCRIBE}>`);
    expect(msg.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(msg.headers.Subject).toBe('First message');
    expect(msg.headers.To).toBe('"Ada" <ada@example.org>');
  });

  it('rejects ids that are not plain file names', async () => {
    await send('Only message');
    await fs.writeFile(path.join(os.tmpdir(), 'pb-outside.eml'), 'Subject: outside\r\n\r\nsecret');
    const bad = [
      '../pb-outside', '..', '.', '', 'a/b', 'a\\b', '/etc/passwd', '%2e%2e%2fpb-outside', 'x.eml', '.hidden',
      'a\0b', ' spaced', 'a'.repeat(200), '..\\pb-outside',
    ];
    for (const id of bad) {
      await expect(readMessage(dir, id)).rejects.toBeInstanceOf(InvalidMessageIdError);
      await expect(readRawMessage(dir, id)).rejects.toBeInstanceOf(InvalidMessageIdError);
    }
    await expect(readMessage(dir, 'does-not-exist')).rejects.toBeInstanceOf(MessageNotFoundError);
    await fs.rm(path.join(os.tmpdir(), 'pb-outside.eml'), { force: true });
  });

  it('ignores temporary and foreign files when listing', async () => {
    await send('Real');
    await fs.writeFile(path.join(dir, `.${newMessageId()}.eml.part`), 'Subject: partial');
    await fs.writeFile(path.join(dir, 'notes.txt'), 'x');
    await fs.mkdir(path.join(dir, 'sub.eml'));
    expect((await listMessages(dir)).map((m) => m.subject)).toEqual(['Real']);
    expect(await listMessages(path.join(dir, 'missing'))).toEqual([]);
  });

  it('refuses oversized messages with 552 and stores nothing', async () => {
    const small = await OutboxSink.start({ port: 0, outboxDir: dir, maxMessageBytes: 2048 });
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: small.port, secure: false, ignoreTLS: true });
    try {
      await expect(t.sendMail({ from: 'a@example.org', to: 'b@example.org', subject: 'big', text: 'x'.repeat(10_000) })).rejects.toMatchObject({
        responseCode: 552,
      });
      expect(await fs.readdir(dir)).toEqual([]);
    } finally {
      t.close();
      await small.stop();
    }
  });

  it('refuses to bind anything but loopback', async () => {
    await expect(OutboxSink.start({ host: '0.0.0.0', port: 0, outboxDir: dir })).rejects.toThrow(/loopback only/);
  });

  it('delivers a rendered digest intact (HTML and text parts)', async () => {
    const renderer = await TemplateRenderer.create(path.resolve(__dirname, '../../../templates'));
    const email = renderer.renderDigest({
      subject: digestSubject(1, 'diffusion models'),
      preheader: 'One new paper',
      digestDate: 'Mon 14 March 2025',
      papers: [
        {
          title: 'Denoising Diffusion Probabilistic Models',
          url: 'https://arxiv.org/abs/2006.11239',
          authors: 'Jonathan Ho',
          abstract: 'We present high quality image synthesis results.',
          topics: ['diffusion models'],
          why: 'title mentions “diffusion”',
        },
      ],
      moreCount: 0,
      moreUrl: null,
      manageUrl: 'https://paperboy.example.org/preferences/tok123',
      unsubscribeUrl: UNSUBSCRIBE,
      publicUrl: 'https://paperboy.example.org/',
      senderName: 'Paperboy',
      senderAddress: '12 Research Way',
    });
    await send(email.subject, { html: email.html, text: email.text });
    const [item] = await listMessages(dir);
    expect(item.subject).toBe('1 new paper for “diffusion models”');
    const msg = await readMessage(dir, item.id);
    expect(msg.html).toBe(email.html);
    expect(msg.text).toContain('Denoising Diffusion Probabilistic Models');
    expect(msg.text).toContain(`<${UNSUBSCRIBE}>`);
  });

  describe('pages', () => {
    it('escape hostile headers and sandbox the HTML part', async () => {
      const evilHtml = '<script>parent.document.body.innerHTML="pwned"</script><p onclick="x()">"quoted" & </iframe><b>hi</b>';
      await send('<img src=x onerror=alert(1)> "subject"', { html: evilHtml, text: '</pre><script>alert(2)</script>' });
      const list = await listMessages(dir);

      const index = renderOutboxIndexPage(list);
      expect(index).toMatch(/^<!doctype html>/);
      expect(index).not.toContain('<img src=x');
      expect(index).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;subject&quot;');
      expect(index).toContain(`href="/dev/outbox/${list[0].id}"`);
      expect(index).not.toMatch(/<script/i);

      const msg = await readMessage(dir, list[0].id);
      const page = renderOutboxMessagePage(msg);
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toContain('<img src=x');
      expect(page).toContain(`href="/dev/outbox/${list[0].id}.eml"`);
      expect(page).toContain(escapeHtml(`<${UNSUBSCRIBE}>`));
      expect(page).toContain('List-Unsubscribe-Post');

      // Exactly one iframe, fully sandboxed, with the email HTML escaped into srcdoc.
      const iframes: string[] = page.match(/<iframe\b[^>]*>/g) ?? [];
      expect(iframes).toHaveLength(1);
      expect(iframes[0]).toContain('sandbox=""');
      const srcdoc = /srcdoc="([^"]*)"/.exec(iframes[0])?.[1] ?? '';
      expect(srcdoc).toBe(escapeHtml(msg.html));
      expect(srcdoc).toContain('&lt;script&gt;parent.document');
      // Nothing in the attribute can close it or the element early.
      expect(srcdoc).not.toMatch(/[<>"']/);
      expect(page).toContain('<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;');
    });

    it('show an empty state and flag a missing List-Unsubscribe', async () => {
      expect(renderOutboxIndexPage([])).toContain('No messages yet');
      await transport.sendMail({ from: 'a@example.org', to: 'b@example.org', subject: 'bare', text: 'x' });
      const [item] = await listMessages(dir);
      const page = renderOutboxMessagePage(await readMessage(dir, item.id), { basePath: '/outbox/' });
      expect(page).toMatch(/<th>List-Unsubscribe<\/th><td><span class="missing">missing<\/span>/);
      expect(page).toContain('This message has no HTML part.');
      expect(page).toContain('href="/outbox/"');
    });
  });
});

describe('escapeHtml', () => {
  it('escapes every character that matters in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('newMessageId', () => {
  it('sorts by time and is a plain file name', () => {
    const a = newMessageId(new Date('2025-03-14T10:15:30.123Z'));
    const b = newMessageId(new Date('2025-03-14T10:15:30.124Z'));
    expect(a).toMatch(/^20250314T101530123Z-\d{6}-[0-9a-f]{8}$/);
    expect([b, a].sort()).toEqual([a, b]);
  });
});
