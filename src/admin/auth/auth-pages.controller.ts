import { BadRequestException, Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { adminPage, csrfField, esc, fmtDate, postButton } from '../view/layout';
import { redirectTo, sendPage } from '../view/respond';
import { AdminAuthGuard, AdminLoginRedirectFilter, AdminPublic, AdminRequest, readCookie, sessionCookieName } from './admin-auth.guard';
import { randomSecret } from './password';

const LOGIN_COOKIE = 'pb_admin_login';
import { AdminAuthService } from './admin-auth.service';

const FLASH: Record<string, string> = {
  password: 'Password changed. Every other session has been logged out.',
  revoked: 'Token revoked.',
};

/** Only our own admin pages are valid targets after login (no open redirect). */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/admin(\/[\w\-./?=&%]*)?$/.test(next) && !next.startsWith('//') ? next : '/admin');

@ApiExcludeController()
@Controller('admin')
@UseGuards(AdminAuthGuard)
@UseFilters(AdminLoginRedirectFilter)
export class AuthPagesController {
  constructor(
    private readonly auth: AdminAuthService,
    private readonly config: AppConfig,
  ) {}

  @Get('login')
  @AdminPublic()
  loginPage(@Query('next') next: string | undefined, @Res() res: Response): void {
    sendPage(res, this.loginHtml(res, safeNext(next)));
  }

  @Post('login')
  @AdminPublic()
  async login(@Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const email = typeof body.email === 'string' ? body.email : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const next = safeNext(body.next);
    if (!this.auth.checkLoginCsrf(readCookie(req, LOGIN_COOKIE), body._csrf)) {
      sendPage(res, this.loginHtml(res, next, 'The login form expired. Please try again.', email), 403);
      return;
    }
    const r = await this.auth.login(email, password, req.ip ?? 'unknown');
    if (!r.ok) {
      if (r.retryAfter) res.setHeader('Retry-After', String(r.retryAfter));
      const msg = r.retryAfter ? `Too many failed attempts. Try again in ${Math.ceil(r.retryAfter / 60)} minute(s).` : 'Wrong email or password.';
      sendPage(res, this.loginHtml(res, next, msg, email), r.retryAfter ? 429 : 401);
      return;
    }
    this.setSessionCookie(res, r.sessionId);
    res.redirect(303, next);
  }

  @Post('logout')
  async logout(@Req() req: AdminRequest, @Res() res: Response): Promise<void> {
    await this.auth.logout(req.admin.sessionId!);
    res.setHeader('Set-Cookie', `${sessionCookieName(this.config)}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`);
    res.redirect(303, '/admin/login');
  }

  @Get('account')
  account(@Req() req: AdminRequest, @Query('done') done: string | undefined, @Res() res: Response): void {
    sendPage(res, this.accountHtml(req, done));
  }

  @Post('account/password')
  async changePassword(@Req() req: AdminRequest, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    if (body.next !== body.confirm) return sendPage(res, this.accountHtml(req, undefined, 'The new passwords do not match.'), 400);
    try {
      const sessionId = await this.auth.changePassword(req.admin.id, String(body.current ?? ''), String(body.next ?? ''));
      this.setSessionCookie(res, sessionId);
      redirectTo(res, '/admin/account', 'password');
    } catch (e) {
      if (e instanceof BadRequestException) return sendPage(res, this.accountHtml(req, undefined, e.message), 400);
      throw e;
    }
  }

  @Get('tokens')
  async tokens(@Req() req: AdminRequest, @Query('done') done: string | undefined, @Res() res: Response): Promise<void> {
    sendPage(res, await this.tokensHtml(req, done ? { kind: 'ok', text: FLASH[done] ?? '' } : undefined));
  }

  @Post('tokens')
  @HttpCode(200)
  async createToken(@Req() req: AdminRequest, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    try {
      const { token } = await this.auth.createApiToken(req.admin.id, String(body.name ?? ''));
      // Shown once, on this response only (no-store), never again.
      const shown = `<div class="card" id="new-token"><h2>Your new token</h2><p>Copy it now: it is not stored and cannot be shown again.</p><pre><code>${esc(token)}</code></pre></div>`;
      sendPage(res, await this.tokensHtml(req, undefined, shown));
    } catch (e) {
      if (e instanceof BadRequestException) return sendPage(res, await this.tokensHtml(req, { kind: 'err', text: e.message }), 400);
      throw e;
    }
  }

  @Post('tokens/:id/revoke')
  async revokeToken(@Param('id', ParseIntPipe) id: number, @Res() res: Response): Promise<void> {
    await this.auth.revokeApiToken(id);
    redirectTo(res, '/admin/tokens', 'revoked');
  }

  private get secure(): boolean {
    return this.config.env.PUBLIC_URL.startsWith('https:');
  }

  private setSessionCookie(res: Response, sessionId: string): void {
    const maxAge = this.config.env.ADMIN_SESSION_TTL_HOURS * 3600;
    res.setHeader('Set-Cookie', `${sessionCookieName(this.config)}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}`);
  }

  /** Every login form comes with a fresh login-CSRF cookie and its signed token. */
  private loginHtml(res: Response, next: string, error?: string, email = ''): string {
    const value = randomSecret();
    res.setHeader('Set-Cookie', `${LOGIN_COOKIE}=${value}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age=3600${this.secure ? '; Secure' : ''}`);
    return adminPage(
      'Log in',
      `<div class="card" style="max-width:26rem;margin:2rem auto"><h1>Log in</h1>
${error ? `<div class="alert err" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="/admin/login"><input type="hidden" name="next" value="${esc(next)}">${csrfField(this.auth.loginCsrf(value))}
<p><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${esc(email)}" style="width:100%"></p>
<p><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required style="width:100%"></p>
<button>Log in</button></form>
<p class="muted">No admin yet? On the server: <code>npm run cli -- admin:create you@example.org</code></p></div>`,
    );
  }

  private accountHtml(req: AdminRequest, done?: string, error?: string): string {
    return adminPage(
      'Account',
      `<h1>Account</h1><div class="card" style="max-width:30rem"><p>Logged in as <b>${esc(req.admin.email)}</b>.</p>
<h2>Change password</h2>${error ? `<div class="alert err" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="/admin/account/password">${csrfField(req.admin.csrf)}
<p><label for="current">Current password</label><input id="current" name="current" type="password" autocomplete="current-password" required></p>
<p><label for="next">New password (12+ characters)</label><input id="next" name="next" type="password" autocomplete="new-password" minlength="12" required></p>
<p><label for="confirm">New password again</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="12" required></p>
<button>Change password</button></form><p class="muted">Changing the password logs out every other session.</p></div>`,
      { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/account', flash: done && FLASH[done] ? { kind: 'ok', text: FLASH[done] } : undefined },
    );
  }

  private async tokensHtml(req: AdminRequest, flash?: { kind: 'ok' | 'err'; text: string }, extra = ''): Promise<string> {
    const tokens = await this.auth.listApiTokens();
    const rows = tokens
      .map(
        (t) => `<tr><td>${esc(t.name)}</td><td><code>${esc(t.prefix)}…</code></td><td>${fmtDate(t.createdAt)}</td><td>${fmtDate(t.lastUsedAt) || '<span class="muted">never</span>'}</td>
<td>${t.revokedAt ? `revoked ${fmtDate(t.revokedAt)}` : postButton(`/admin/tokens/${t.id}/revoke`, 'Revoke', req.admin.csrf, { danger: true })}</td></tr>`,
      )
      .join('');
    return adminPage(
      'API tokens',
      `<h1>API tokens</h1>${extra}
<div class="card"><p>Tokens authenticate automation on <code>/api/admin/…</code> with <code>Authorization: Bearer &lt;token&gt;</code>. See <a href="/api/docs">the API docs</a>.</p>
<form method="post" action="/admin/tokens" class="filters">${csrfField(req.admin.csrf)}<div><label for="name">Name</label><input id="name" name="name" required maxlength="100" placeholder="nightly export"></div><button>Create token</button></form></div>
<table><thead><tr><th>Name</th><th>Token</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="5" class="muted">No tokens yet.</td></tr>'}</tbody></table>`,
      { csrf: req.admin.csrf, email: req.admin.email, current: '/admin/tokens', flash },
    );
  }
}
