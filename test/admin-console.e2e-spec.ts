import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { apiToken, createAdmin, login, AdminSession } from './admin-helpers';
import { seedMatches } from './helpers/seed';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

const XSS = `<script>alert('pwned')</script><img src=x onerror="alert(2)">`;

describe('admin console: subscribers, digests and sends (API and pages)', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;
  let token: string;
  let s: AdminSession;
  let ids: Record<string, string>;
  const api = (method: 'get' | 'post' | 'patch' | 'delete', path: string) => request(t.url)[method](path).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, SEND_BACKOFF_MS: '50' }, { workers: true });
    await createAdmin(t.app);
    s = await login(t.url);
    token = await apiToken(t.url, s);
    ids = await seedMatches(db.url, [
      { email: 'ada@lab.example.org', papers: 3 },
      { email: 'grace@navy.example.org', papers: 1, frequency: 'weekly' },
      { email: 'evil@example.net', papers: 1 },
    ]);
    await withClient(db.url, async (c) => {
      // A hostile paper title reaches the preview (and must not run there).
      await c.query(`UPDATE paper SET title = $1 WHERE id = (SELECT paper_id FROM match WHERE subscriber_id = $2 LIMIT 1)`, [XSS, ids['evil@example.net']]);
      const topic = await c.query(`INSERT INTO topic (query) VALUES ('graph neural networks') RETURNING id`);
      await c.query(`INSERT INTO subscriber_topic (subscriber_id, topic_id, label) VALUES ($1, $2, 'Graph neural networks')`, [ids['grace@navy.example.org'], topic.rows[0].id]);
      await c.query(`INSERT INTO subscriber (id, email, status, updated_at) SELECT gen_random_uuid(), 'bulk' || g || '@bulk.example.com', 'pending', now() FROM generate_series(1, 120) g`);
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  it('lists, searches, filters and pages through subscribers (keyset)', async () => {
    const all = await api('get', '/api/admin/subscribers?limit=500');
    expect(all.status).toBe(200);
    expect(all.body.rows).toHaveLength(123);
    expect((await api('get', '/api/admin/subscribers?q=NAVY.example')).body.rows.map((r: { email: string }) => r.email)).toEqual(['grace@navy.example.org']);
    expect((await api('get', '/api/admin/subscribers?topic=neural')).body.rows.map((r: { email: string }) => r.email)).toEqual(['grace@navy.example.org']);
    expect((await api('get', '/api/admin/subscribers?frequency=weekly')).body.rows).toHaveLength(1);
    expect((await api('get', '/api/admin/subscribers?status=active&limit=500')).body.rows).toHaveLength(3);
    expect((await api('get', '/api/admin/subscribers?status=nope')).status).toBe(400);
    // Keyset pages: every row once, in order, for both sort keys.
    for (const sort of ['email_asc', 'created_desc']) {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: request.Response = await api('get', `/api/admin/subscribers?q=bulk&sort=${sort}&limit=25${after ? `&after=${after}` : ''}`);
        seen.push(...page.body.rows.map((r: { email: string }) => r.email));
        after = page.body.next;
      } while (after);
      expect(seen).toHaveLength(120);
      expect(new Set(seen).size).toBe(120);
      if (sort === 'email_asc') expect(seen).toEqual([...seen].sort());
    }
  });

  it('shows a subscriber and edits topics and frequency, with a consent record', async () => {
    const id = ids['ada@lab.example.org'];
    const bad = await api('patch', `/api/admin/subscribers/${id}`).send({ frequency: 'daily', topics: ['("unbalanced'] });
    expect(bad.status).toBe(400);
    const ok = await api('patch', `/api/admin/subscribers/${id}`).send({ frequency: 'daily', topics: ['diffusion models', 'protein folding'] });
    expect(ok.status).toBe(200);
    const d = await api('get', `/api/admin/subscribers/${id}`);
    expect(d.body.frequency).toBe('daily');
    expect(d.body.topics.map((x: { label: string }) => x.label)).toEqual(['diffusion models', 'protein folding']);
    expect(d.body.consents[0]).toMatchObject({ action: 'updated', source: 'admin' });
    expect(d.body.matches).toHaveLength(3);
    // The page form does the same (with CSRF).
    const form = await request(t.url).post(`/admin/subscribers/${id}`).set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, frequency: 'instant', topics: 'diffusion models\nprotein folding' });
    expect(form.status).toBe(303);
    const page = await request(t.url).get(`/admin/subscribers/${id}`).set('Cookie', s.cookie);
    expect(page.text).toContain('protein folding');
    expect(page.text).toContain('Consent record');
  });

  it('suspends, resumes, unsubscribes and erases', async () => {
    const id = ids['grace@navy.example.org'];
    expect((await api('post', `/api/admin/subscribers/${id}/suspend`)).body).toEqual({ changed: true });
    expect((await api('get', `/api/admin/subscribers/${id}`)).body.status).toBe('suspended');
    expect((await api('post', `/api/admin/subscribers/${id}/resume`)).body).toEqual({ changed: true });
    expect((await api('post', `/api/admin/subscribers/${id}/unsubscribe`)).body).toEqual({ changed: true });
    expect((await api('post', `/api/admin/subscribers/${id}/resume`)).body).toEqual({ changed: false });
    const bulk = (await api('get', '/api/admin/subscribers?q=bulk1%40')).body.rows[0];
    const del = await request(t.url).post(`/admin/subscribers/${bulk.id}/delete`).set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf });
    expect(del.status).toBe(303);
    expect((await api('get', `/api/admin/subscribers/${bulk.id}`)).status).toBe(404);
    const sup = await withClient(db.url, (c) => c.query(`SELECT count(*)::int AS n FROM suppression WHERE reason = 'erased'`));
    expect(sup.rows[0].n).toBe(1);
  });

  it('exports the filtered list as CSV (formula cells neutralised)', async () => {
    await withClient(db.url, (c) => c.query(`UPDATE subscriber_topic SET label = '=HYPERLINK("x")' WHERE subscriber_id = $1`, [ids['grace@navy.example.org']]));
    const r = await api('get', '/api/admin/subscribers/export.csv?q=example.org');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toBe('email,status,frequency,timezone,created_at,confirmed_at,topics');
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['ada@lab.example.org', 'grace@navy.example.org']);
    expect(r.text).toContain(`"'=HYPERLINK(""x"")"`);
    const page = await request(t.url).get('/admin/subscribers/export.csv?status=pending').set('Cookie', s.cookie);
    expect(page.text.trim().split('\r\n')).toHaveLength(120);
  });

  it('previews the exact email in a sandboxed frame where its script cannot run', async () => {
    const id = ids['evil@example.net'];
    const p = await api('get', `/api/admin/sends/preview?subscriber=${id}`);
    expect(p.status).toBe(200);
    expect(p.body.to).toBe('evil@example.net');
    const page = await request(t.url).get(`/admin/sends/preview?subscriber=${id}`).set('Cookie', s.cookie);
    expect(page.status).toBe(200);
    // Nothing of the email is markup of the admin page: no <script>, no <img>, no onerror attribute outside the escaped srcdoc.
    expect(page.text).not.toMatch(/<script/i);
    expect(page.text).not.toMatch(/<img/i);
    const frame = /<iframe class="preview" sandbox="" [^>]*srcdoc="([^"]*)"><\/iframe>/.exec(page.text);
    expect(frame).not.toBeNull();
    const doc = frame![1].replace(/&(lt|gt|quot|#x27|#x3D|#x60|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#x27': "'", '#x3D': '=', '#x60': '`', amp: '&' })[e]!);
    // Inside the frame the title is text (the template escaped it), and the document has no script of its own.
    expect(doc).toContain('&lt;script&gt;alert(');
    expect(doc).not.toMatch(/<script/i);
    expect(page.text.replace(frame![0], '')).not.toMatch(/<[^>]*\son\w+=/i); // no event-handler attribute on any tag
    // The frame's own document forbids script too, and the admin page's CSP allows none.
    expect(doc).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'none'`);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).not.toMatch(/script-src/);
  });

  it('dry-runs, test-sends, sends now and logs the deliveries', async () => {
    const dry = await api('post', '/api/admin/sends/dry-run').send({});
    expect(dry.status).toBe(200);
    expect(dry.body.emails).toBe(2); // ada and evil (grace unsubscribed)
    expect(dry.body.distribution).toEqual([[1, 1], [3, 1]]);
    const page = await request(t.url).get('/admin/sends/dry-run').set('Cookie', s.cookie);
    expect(page.text).toContain('<svg');
    expect(page.text).toContain('ada@lab.example.org');

    const test = await request(t.url).post('/admin/sends/test').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, subscriber: ids['ada@lab.example.org'], to: 'editor@example.com' });
    expect(test.status).toBe(200);
    const testMail = await waitFor('the test email', async () => smtp.to('editor@example.com')[0]);
    expect(testMail.parsed.subject).toMatch(/^\[Test\] /);
    expect(testMail.parsed.text).not.toContain(ids['ada@lab.example.org']);
    expect(await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM delivery')).then((r) => r.rows[0].n)).toBe(0);

    const send = await request(t.url).post('/admin/sends/send').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, digest: '' });
    expect(send.status).toBe(303);
    expect(send.headers.location).toMatch(/^\/admin\/deliveries\?issue=manual-/);
    await waitFor('both emails', async () => smtp.to('ada@lab.example.org').length === 1 && smtp.to('evil@example.net').length === 1);
    const log = await waitFor('the log to show two sent', async () => {
      const r = await api('get', '/api/admin/deliveries?status=sent');
      return r.body.rows.length === 2 ? r.body.rows : false;
    });
    expect(log[0].smtpResponse).toMatch(/^250/);
    const html = await request(t.url).get(send.headers.location).set('Cookie', s.cookie);
    expect(html.text).toContain('ada@lab.example.org');
    expect(html.text).toContain('http-equiv="refresh"');
  });

  it('retries failed deliveries, pauses, resumes and cancels', async () => {
    await withClient(db.url, (c) => c.query(`UPDATE delivery SET status = 'failed', last_error = '451: try later' WHERE subscriber_id = $1`, [ids['ada@lab.example.org']]));
    const r = await api('post', '/api/admin/deliveries/retry').send({});
    expect(r.body).toEqual({ queued: 1 });
    await waitFor('the retried email', async () => smtp.to('ada@lab.example.org').length === 2);

    expect((await api('post', '/api/admin/sends/pause')).body).toEqual({ paused: true });
    expect((await api('get', '/api/admin/sends/state')).body).toEqual({ paused: true });
    // New matches, sent while paused, then cancelled: nothing goes and the papers return to the pool.
    const more = await seedMatches(db.url, [{ email: `late-${randomUUID().slice(0, 6)}@example.org`, papers: 2 }]);
    const sent = await api('post', '/api/admin/sends').send({});
    expect(sent.status).toBe(202);
    expect(sent.body.queued).toBe(1);
    expect((await api('post', '/api/admin/sends/cancel').send({ issueKey: sent.body.issueKey })).body).toEqual({ cancelled: 1 });
    expect((await api('post', '/api/admin/sends/resume')).body).toEqual({ paused: false });
    const row = await waitFor('the cancelled delivery to settle', async () => {
      const x = await api('get', `/api/admin/deliveries?issue=${encodeURIComponent(sent.body.issueKey)}`);
      return x.body.rows[0]?.status === 'skipped' ? x.body.rows[0] : false;
    });
    expect(row.lastError).toBe('cancelled by an admin');
    await new Promise((res) => setTimeout(res, 300));
    expect(smtp.to(Object.keys(more)[0])).toHaveLength(0);
    expect((await api('post', '/api/admin/sends/dry-run').send({})).body.emails).toBe(1);
  });

  it('uploads a JSON digest and shows it with per-paper and per-topic counts', async () => {
    const digest = JSON.stringify({ date: '2026-11-21', source: 'console-test', papers: [{ title: 'Graph neural networks at scale', abstract: 'We scale graph neural networks.' }] });
    const up = await api('post', '/api/admin/digests').attach('file', Buffer.from(digest), 'digest.json');
    expect(up.status).toBe(201);
    const again = await request(t.url)
      .post(`/admin/digests/upload?_csrf=${encodeURIComponent(s.csrf)}`)
      .set('Cookie', s.cookie)
      .attach('file', Buffer.from(digest), 'digest.json');
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(`/admin/digests/${up.body.digestId}?done=duplicate`);
    const noCsrf = await request(t.url).post('/admin/digests/upload').set('Cookie', s.cookie).attach('file', Buffer.from(digest), 'digest.json');
    expect(noCsrf.status).toBe(403);
    const bad = await request(t.url).post(`/admin/digests/upload?_csrf=${encodeURIComponent(s.csrf)}`).set('Cookie', s.cookie).attach('file', Buffer.from('{"date": 1'), 'x.json');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('not valid JSON');
    const list = await api('get', '/api/admin/digests');
    expect(list.body.rows[0]).toMatchObject({ id: up.body.digestId, source: 'console-test', paperCount: 1 });
    const detail = await api('get', `/api/admin/digests/${up.body.digestId}`);
    expect(detail.body.papers[0]).toMatchObject({ title: 'Graph neural networks at scale', position: 0 });
    const html = await request(t.url).get(`/admin/digests/${up.body.digestId}`).set('Cookie', s.cookie);
    expect(html.text).toContain('Graph neural networks at scale');
  });

  it('shows every feed-source pull to admins over the API', async () => {
    await withClient(db.url, (c) =>
      c.query(`INSERT INTO source_pull (source, trigger, status, finished_at, digests, new_papers, updated_papers, skipped_papers, error)
               VALUES ('hf-daily', 'schedule', 'failed', now(), 0, 0, 0, 0, 'HTTP 500'), ('hf-daily', 'schedule', 'ok', now(), 1, 12, 3, 1, NULL)`),
    );
    const res = await api('get', '/api/admin/source-pulls?limit=5').expect(200);
    expect(res.body.pulls.map((p: { status: string; newPapers: number; error: string | null }) => [p.status, p.newPapers, p.error])).toEqual([
      ['ok', 12, null],
      ['failed', 0, 'HTTP 500'],
    ]);
    await api('get', '/api/admin/source-pulls?limit=0').expect(400);
    await request(t.url).get('/api/admin/source-pulls').expect(401);
  });

  it('renders the dashboard with inline SVG charts and serves the numbers over the API', async () => {
    const page = await request(t.url).get('/admin').set('Cookie', s.cookie);
    expect(page.status).toBe(200);
    expect((page.text.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(page.text).not.toMatch(/<script/i);
    const stats = await api('get', '/api/admin/stats');
    expect(stats.body.emailsByStatus.sent.reduce((a: number, b: number) => a + b, 0)).toBe(2); // ada's retried delivery is one row
    expect(stats.body.statusCounts.pending).toBe(119);
  });

  it('imports a CSV: a dry-run report naming the bad lines, then the import with progress', async () => {
    const csv = [
      'email,topics,frequency',
      'new1@import.example.org,diffusion models;protein folding,daily',
      'not-an-address,diffusion models,',
      'new2@import.example.org,"(unbalanced",',
      'NEW1@import.example.org,diffusion models,',
      'ada@lab.example.org,diffusion models,',
      'new3@import.example.org,"graph neural networks",hourly',
      '"new4@import.example.org","robotics; reinforcement learning",weekly',
    ].join('\n');
    const noMode = await request(t.url).post(`/admin/import?_csrf=${encodeURIComponent(s.csrf)}`).set('Cookie', s.cookie).attach('file', Buffer.from(csv), 'list.csv');
    expect(noMode.status).toBe(400);
    expect(noMode.text).toContain('mode: choose');
    const check = await request(t.url)
      .post(`/admin/import?_csrf=${encodeURIComponent(s.csrf)}`)
      .set('Cookie', s.cookie)
      .field('mode', 'confirmed')
      .field('consent', 'Signed up at the 2026 workshop')
      .attach('file', Buffer.from(csv), 'list.csv');
    expect(check.status).toBe(303);
    const report = await request(t.url).get(check.headers.location).set('Cookie', s.cookie);
    expect(report.text).toMatch(/<b>7<\/b>rows in the file/);
    expect(report.text).toMatch(/<b>2<\/b>valid and new/);
    for (const [line, reason] of [[3, 'not a valid address'], [4, 'topics[0]'], [5, 'also on line 2'], [6, 'already a subscriber'], [7, 'frequency &quot;hourly&quot;']] as const)
      expect(report.text).toMatch(new RegExp(`<td class="num">${line}</td><td>[^<]*${reason.replace(/[()[\]]/g, '\\$&')}`));
    expect(await withClient(db.url, (c) => c.query(`SELECT count(*)::int AS n FROM subscriber WHERE email LIKE '%@import.example.org'`)).then((r) => r.rows[0].n)).toBe(0);
    const id = check.headers.location.split('/').pop();
    const start = await request(t.url).post(`/admin/import/${id}/start`).set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf });
    expect(start.status).toBe(303);
    const done = await waitFor('the import to finish', async () => {
      const r = await api('get', `/api/admin/imports/${id}`);
      return r.body.status === 'done' ? r.body : false;
    });
    expect(done).toMatchObject({ total: 2, processed: 2, imported: 2 });
    const n4 = (await api('get', '/api/admin/subscribers?q=new4%40import')).body.rows[0];
    expect(n4).toMatchObject({ status: 'active', frequency: 'weekly', topics: ['robotics', 'reinforcement learning'] });
    expect((await api('get', `/api/admin/subscribers/${n4.id}`)).body.consents[0]).toMatchObject({ action: 'confirmed', source: 'admin-import', formVersion: 'Signed up at the 2026 workshop' });
    expect((await request(t.url).get(`/admin/import/${id}`).set('Cookie', s.cookie)).text).toContain('2 of 2 row(s) imported');

    // Opt-in: requests are made and confirmation emails go out; nobody is subscribed yet.
    const optIn = await api('post', '/api/admin/imports').field('mode', 'opt-in').attach('file', Buffer.from('email,topics\noptin@import.example.org,diffusion models\n'), 'x.csv');
    expect(optIn.status).toBe(201);
    expect(optIn.body.report).toMatchObject({ valid: 1, invalidCount: 0 });
    expect((await api('post', `/api/admin/imports/${optIn.body.id}/start`)).status).toBe(202);
    await waitFor('the confirmation email', async () => smtp.to('optin@import.example.org').length === 1);
    expect((await api('get', '/api/admin/subscribers?q=optin%40')).body.rows).toHaveLength(0);
  });

  it('dry-runs and sends "everyone due": daily and weekly subscribers whose hour has come', async () => {
    const today = ((new Date().getUTCDay() + 6) % 7) + 1;
    await seedMatches(db.url, [
      { email: 'due-daily@example.org', papers: 2, frequency: 'daily', sendHour: 0 },
      { email: 'not-due-weekly@example.org', papers: 1, frequency: 'weekly', sendHour: 0, sendWeekday: (today % 7) + 1 },
    ]);
    const dry = await api('post', '/api/admin/sends/dry-run').send({ due: true });
    expect(dry.body.sample.map((r: { email: string }) => r.email)).toEqual(['due-daily@example.org']);
    const page = await request(t.url).get('/admin/sends/dry-run?due=1').set('Cookie', s.cookie);
    expect(page.text).toContain('everyone due now');
    const sent = await request(t.url).post('/admin/sends/send').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, due: '1' });
    expect(sent.status).toBe(303);
    await waitFor('the due email', async () => smtp.to('due-daily@example.org').length === 1);
    expect(smtp.to('not-due-weekly@example.org')).toHaveLength(0);
    expect((await api('post', '/api/admin/sends/dry-run').send({ due: true })).body.emails).toBe(0);
  });
});
