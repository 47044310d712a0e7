import {
  ArgumentsHost,
  CanActivate,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  ForbiddenException,
  HttpException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { AdminIdentity } from './admin-auth.repository';
import { AdminAuthService } from './admin-auth.service';

export interface AdminRequest extends Request {
  admin: AdminIdentity & { via: 'session' | 'token'; sessionId?: string; csrf?: string };
}

const PUBLIC = 'paperboy:admin-public';
/** The login page and its POST: everything else under /admin and /api/admin needs an admin. */
export const AdminPublic = () => SetMetadata(PUBLIC, true);

/** A page request without a live session (the filter below sends browsers to the login page). */
export class AdminLoginRequired extends UnauthorizedException {}

export const sessionCookieName = (config: AppConfig) => (config.env.PUBLIC_URL.startsWith('https:') ? '__Host-pb_admin' : 'pb_admin');

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The admin behind a request: a session cookie, or a Bearer API token. */
export async function authenticate(req: Request, auth: AdminAuthService, config: AppConfig): Promise<AdminRequest['admin'] | null> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (bearer) {
    const admin = await auth.tokenAdmin(bearer[1]);
    return admin ? { ...admin, via: 'token' } : null;
  }
  const sid = readCookie(req, sessionCookieName(config));
  const admin = sid ? await auth.sessionAdmin(sid) : null;
  return admin && sid ? { ...admin, via: 'session', sessionId: sid, csrf: auth.csrfToken(sid) } : null;
}

/**
 * Every admin route goes through here. `/api/admin/…` takes a Bearer API token only (no cookies,
 * so no CSRF there); pages take the session cookie, and every state-changing page request must
 * carry the session's CSRF token (`_csrf` form field, or `X-CSRF-Token`).
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AdminAuthService,
    private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const api = req.path.startsWith('/api/');
    if (api) {
      if (!/^Bearer\s/i.test(req.headers.authorization ?? '')) throw new UnauthorizedException('Authorization: Bearer <API token> required');
      const admin = await authenticate(req, this.auth, this.config);
      if (!admin) throw new UnauthorizedException('API token unknown or revoked');
      req.admin = admin;
      return true;
    }
    const admin = await authenticate(req, this.auth, this.config);
    if (!admin || admin.via !== 'session') throw new AdminLoginRequired('Log in to the admin console');
    if (!['GET', 'HEAD'].includes(req.method)) {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = body._csrf ?? req.headers['x-csrf-token'] ?? (req.query as Record<string, unknown>)._csrf;
      if (!this.auth.checkCsrf(admin.sessionId!, token)) throw new ForbiddenException('CSRF token missing or wrong: reload the page and try again');
    }
    req.admin = admin;
    return true;
  }
}

/** Browsers asking for a page without a session go to the login page (303); anything else gets the 401. */
@Catch(AdminLoginRequired)
export class AdminLoginRedirectFilter implements ExceptionFilter {
  catch(err: HttpException, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (req.method === 'GET' || req.method === 'HEAD') {
      const next = req.originalUrl.startsWith('/admin') ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      res.redirect(303, `/admin/login${next}`);
      return;
    }
    res.status(401).json(err.getResponse());
  }
}
