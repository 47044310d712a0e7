import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ComposerService } from '../src/mailer/composer.service';
import { deliveries, seedMatches } from './helpers/seed';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, waitFor } from './helpers/test-app';
import { createTestDatabase } from './helpers/test-db';

describe('embedded mail sink and /dev/outbox', () => {
  it('without SMTP_URL, mail goes over SMTP to the in-process sink, kept as .eml and browsable', async () => {
    const db = await createTestDatabase();
    const outbox = mkdtempSync(join(tmpdir(), 'outbox-'));
    const t = await startTestApp({ DATABASE_URL: db.url, OUTBOX_DIR: outbox });
    try {
      await seedMatches(db.url, [{ email: 'ada@example.org', papers: 2 }]);
      await t.app.get(ComposerService).sendNow();
      await waitFor('the email', async () => (await deliveries(db.url)).every((d) => d.status === 'sent'));
      const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      const index = await request(t.url).get('/dev/outbox').expect(200);
      expect(index.text).toContain('2 new papers for');
      const id = files[0].replace(/\.eml$/, '');
      const message = await request(t.url).get(`/dev/outbox/${id}`).expect(200);
      expect(message.headers['content-security-policy']).toContain("default-src 'none'");
      expect(message.text).toContain('List-Unsubscribe');
      expect(message.text).toMatch(/<iframe[^>]*sandbox/);
      const raw = await request(t.url).get(`/dev/outbox/${id}.eml`).expect(200);
      expect(raw.headers['content-type']).toMatch(/^message\/rfc822/);
      await request(t.url).get('/dev/outbox/..%2F..%2Fetc%2Fpasswd').expect(404);
    } finally {
      await t.close();
      await db.drop();
    }
  });

  it('is not mounted in production', async () => {
    const db = await createTestDatabase();
    const smtp = await SmtpCapture.start();
    const t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, NODE_ENV: 'production' }, { workers: false });
    try {
      await request(t.url).get('/dev/outbox').expect(404);
    } finally {
      await t.close();
      await smtp.stop();
      await db.drop();
    }
  });
});
