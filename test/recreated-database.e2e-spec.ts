import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { SubscribersService } from '../src/subscribers/subscribers.service';
import { SmtpCapture } from './helpers/smtp-capture';
import { deleteKeys, startTestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, withClient } from './helpers/test-db';

const PAGE = readFileSync(join(__dirname, '../prisma/seed-digests/002_80ae0b6a3b65c4c3.txt'), 'utf8');

/**
 * Job ids are deterministic per row. A database recreated (or restored) under the same Redis
 * reuses row ids; its jobs must still run rather than be mistaken for the old, retained ones.
 */
it('a recreated database under the same Redis still matches and delivers', async () => {
  const prefix = `pbtest-recreate-${process.pid}`;
  const smtp = await SmtpCapture.start();
  try {
    for (let round = 1; round <= 2; round++) {
      const db = await createTestDatabase();
      const t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, QUEUE_PREFIX: prefix });
      try {
        await t.app.get(SubscribersService).addOrUpdate({ email: 'ada@example.org', topics: ['reinforcement learning'], status: 'active', consentSource: 'test' });
        const res = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(PAGE).expect(201);
        expect(res.body.digestId).toBe(1);
        await waitFor(`round ${round} to be delivered`, () =>
          withClient(db.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM delivery WHERE status = 'sent'`)).rows[0].n === 1),
        );
        expect(smtp.to('ada@example.org')).toHaveLength(round);
      } finally {
        await t.close();
        await db.drop();
      }
    }
  } finally {
    await smtp.stop();
    await deleteKeys(prefix);
  }
});
