import request from 'supertest';
import { runCli } from '../src/cli';
import { adminRoutes, apiToken, createAdmin, login, loginForm, postLogin, ADMIN_EMAIL, ADMIN_PASSWORD } from './admin-helpers';
import { startTestApp, TestApp, TEST_REDIS_URL } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

describe('admin console: access', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ DATABASE_URL: db.url, ADMIN_LOGIN_ATTEMPTS: '4' }, { workers: false });
    await createAdmin(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('denies every admin route without auth (routes enumerated from the router)', async () => {
    const routes = adminRoutes(t.app);
    expect(routes.length).toBeGreaterThan(15);
    const open = routes.filter((r) => r.path === '/admin/login');
    expect(open.map((r) => r.method).sort()).toEqual(['GET', 'POST']);
    for (const r of routes.filter((x) => x.path !== '/admin/login')) {
      const path = r.path.replace(/:id/g, '1').replace(/:action/g, 'suspend').replace(/:\w+/g, 'x');
      const res = await request(t.url)[r.method.toLowerCase() as 'get'](path);
      if (path.startsWith('/api/')) expect([r.method, path, res.status]).toEqual([r.method, path, 401]);
      else if (r.method === 'GET') expect([r.method, path, res.status, res.headers.location]).toEqual([r.method, path, 303, expect.stringMatching(/^\/admin\/login/)]);
      else expect([r.method, path, res.status]).toEqual([r.method, path, 401]);
    }
  });

  it('documents every /api/admin route in OpenAPI, with the admin bearer scheme and examples', async () => {
    const doc = (await request(t.url).get('/api/docs-json')).body;
    expect(doc.components.securitySchemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' });
    const api = adminRoutes(t.app).filter((r) => r.path.startsWith('/api/admin'));
    expect(api.length).toBeGreaterThan(20);
    for (const r of api) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect([r.method, r.path, !!op]).toEqual([r.method, r.path, true]);
      expect(op.security).toEqual([{ admin: [] }]);
      expect(JSON.stringify(op.responses)).toMatch(/example|description/);
    }
    // Pages are not API operations.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
    expect((await request(t.url).get('/api/docs')).status).toBeLessThan(400);
  });

  it('mounts the BullMQ dashboard behind the admin session', async () => {
    expect((await request(t.url).get('/admin/queues')).status).toBe(303);
    expect((await request(t.url).get('/admin/queues/api/queues')).status).toBe(303);
    expect((await request(t.url).put('/admin/queues/api/queues/send/pause')).status).toBe(401);
    const s = await login(t.url);
    const ui = await request(t.url).get('/admin/queues').set('Cookie', s.cookie);
    expect(ui.status).toBe(200);
    const queues = await request(t.url).get('/admin/queues/api/queues').set('Cookie', s.cookie);
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['send', 'matching', 'mailer']));
    const crossSite = await request(t.url).put('/admin/queues/api/queues/send/pause').set('Cookie', s.cookie).set('Origin', 'https://evil.example');
    expect(crossSite.status).toBe(403);
  });

  it('API: no token, a bad token and a revoked token are refused; a live token works', async () => {
    const s = await login(t.url);
    const token = await apiToken(t.url, s);
    expect((await request(t.url).get('/api/admin/me')).status).toBe(401);
    expect((await request(t.url).get('/api/admin/me').set('Authorization', 'Bearer pbat_' + 'x'.repeat(43))).status).toBe(401);
    expect((await request(t.url).get('/api/admin/me').set('Authorization', 'Bearer nonsense')).status).toBe(401);
    // A session cookie is not enough on the API (no CSRF exposure there).
    expect((await request(t.url).get('/api/admin/me').set('Cookie', s.cookie)).status).toBe(401);
    const ok = await request(t.url).get('/api/admin/me').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.body.email).toBe(ADMIN_EMAIL);
    // Stored hashed: the secret is nowhere in the database.
    const stored = await withClient(db.url, (c) => c.query('SELECT token_hash, prefix FROM api_token'));
    expect(JSON.stringify(stored.rows)).not.toContain(token);
    const list = await request(t.url).get('/api/admin/tokens').set('Authorization', `Bearer ${token}`);
    const id = list.body.find((x: { prefix: string }) => token.startsWith(x.prefix)).id;
    expect((await request(t.url).delete(`/api/admin/tokens/${id}`).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(t.url).get('/api/admin/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('sets a Secure, HttpOnly, SameSite=Strict session cookie, stored hashed', async () => {
    const r = await postLogin(t.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(r.status).toBe(303);
    const cookie = (r.headers['set-cookie'] as unknown as string[])[0];
    expect(cookie).toMatch(/^__Host-pb_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const sid = /=([^;]+)/.exec(cookie)![1];
    const rows = await withClient(db.url, (c) => c.query('SELECT id_hash FROM admin_session'));
    expect(rows.rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows.rows)).not.toContain(sid);
  });

  it('refuses a state-changing form without the CSRF token, or with another session’s', async () => {
    // The login form too (login CSRF): no token, or a token without its cookie, is refused.
    expect((await request(t.url).post('/admin/login').type('form').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(403);
    const f = await loginForm(t.url);
    expect((await request(t.url).post('/admin/login').type('form').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD, _csrf: f.csrf })).status).toBe(403);
    const a = await login(t.url);
    const b = await login(t.url);
    const noToken = await request(t.url).post('/admin/tokens').set('Cookie', a.cookie).type('form').send({ name: 'x' });
    expect(noToken.status).toBe(403);
    const wrong = await request(t.url).post('/admin/tokens').set('Cookie', a.cookie).type('form').send({ name: 'x', _csrf: b.csrf });
    expect(wrong.status).toBe(403);
    const ok = await request(t.url).post('/admin/tokens').set('Cookie', a.cookie).type('form').send({ name: 'x', _csrf: a.csrf });
    expect(ok.status).toBe(200);
  });

  it('a password change ends every other session', async () => {
    const other = await login(t.url);
    const me = await login(t.url);
    const r = await request(t.url)
      .post('/admin/account/password')
      .set('Cookie', me.cookie)
      .type('form')
      .send({ _csrf: me.csrf, current: ADMIN_PASSWORD, next: 'a brand new passphrase', confirm: 'a brand new passphrase' });
    expect(r.status).toBe(303);
    const fresh = (r.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    expect((await request(t.url).get('/admin/subscribers').set('Cookie', other.cookie)).status).toBe(303);
    expect((await request(t.url).get('/admin/subscribers').set('Cookie', me.cookie)).status).toBe(303);
    expect((await request(t.url).get('/admin/subscribers').set('Cookie', fresh)).status).toBe(200);
    // Back to the old password for the other tests.
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await request(t.url).get('/admin/account').set('Cookie', fresh)).text)![1];
    await request(t.url).post('/admin/account/password').set('Cookie', fresh).type('form').send({ _csrf: csrf, current: 'a brand new passphrase', next: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD });
  });

  it('throttles logins: after the limit even the right password is refused', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await postLogin(t.url, 'throttle@example.org', 'wrong password!', { 'X-Forwarded-For': '203.0.113.9' });
      expect(r.status).toBe(401);
    }
    const blocked = await postLogin(t.url, 'throttle@example.org', 'wrong password!');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBeDefined();
  });

  it('admin:create makes an admin from the command line, with a generated password printed once', async () => {
    const saved = { ...process.env };
    const lines: string[] = [];
    const write = process.stdout.write;
    Object.assign(process.env, { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `pbtest-admincli-${process.pid}`, LOG_LEVEL: 'error' });
    process.stdout.write = ((s: string) => lines.push(s) > 0) as unknown as typeof process.stdout.write;
    try {
      expect(await runCli(['admin:create', 'second@example.org', '--generate'])).toBe(0);
    } finally {
      process.stdout.write = write;
      process.env = saved;
    }
    const password = /password \(shown once, store it now\): (\S+)/.exec(lines.join(''))![1];
    expect((await postLogin(t.url, 'second@example.org', password)).status).toBe(303);
    const row = await withClient(db.url, (c) => c.query(`SELECT password_hash FROM admin_user WHERE email = 'second@example.org'`));
    expect(row.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });
});
