import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAuthService } from '../src/admin/auth/admin-auth.service';

export const ADMIN_EMAIL = 'admin@example.org';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface AdminSession {
  cookie: string;
  csrf: string;
}

/** Every route the app serves under /admin and /api/admin, from Express's own router. */
export function adminRoutes(app: INestApplication): { method: string; path: string }[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } };
  const out: { method: string; path: string }[] = [];
  for (const layer of express.router.stack) {
    const r = layer.route;
    if (!r || !/^\/(api\/)?admin(\/|$)/.test(r.path)) continue;
    for (const [m, on] of Object.entries(r.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path: r.path });
  }
  return out;
}

export async function createAdmin(app: INestApplication, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<number> {
  return app.get(AdminAuthService).createAdmin(email, password);
}

/** The login form's CSRF cookie and token (a login POST without them is refused). */
export async function loginForm(url: string): Promise<{ cookie: string; csrf: string }> {
  const r = await request(url).get('/admin/login');
  return { cookie: (r.headers['set-cookie'] as unknown as string[])[0].split(';')[0], csrf: /name="_csrf" value="([^"]+)"/.exec(r.text)![1] };
}

/** POSTs the login form as a browser would (after loading it). */
export async function postLogin(url: string, email: string, password: string, headers: Record<string, string> = {}): Promise<request.Response> {
  const f = await loginForm(url);
  return request(url).post('/admin/login').set({ Cookie: f.cookie, ...headers }).type('form').send({ email, password, _csrf: f.csrf });
}

/** Logs in through the form and reads the CSRF token off a page. */
export async function login(url: string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<AdminSession> {
  const r = await postLogin(url, email, password);
  if (r.status !== 303) throw new Error(`login failed: ${r.status}`);
  const cookie = (r.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
  const page = await request(url).get('/admin/account').set('Cookie', cookie);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!csrf) throw new Error('no CSRF token on the account page');
  return { cookie, csrf };
}

export async function apiToken(url: string, s: AdminSession, name = 'test'): Promise<string> {
  const r = await request(url).post('/admin/tokens').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, name });
  const token = /<code>(pbat_[A-Za-z0-9_-]+)<\/code>/.exec(r.text)?.[1];
  if (!token) throw new Error(`no token shown (${r.status})`);
  return token;
}
