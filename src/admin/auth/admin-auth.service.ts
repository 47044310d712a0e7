import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestException, Injectable, OnApplicationShutdown } from '@nestjs/common';
import IORedis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../../config/app-config';
import { redisOptionsFromUrl } from '../../infra/queue/redis-options';
import { isValidEmail, normalizeEmail } from '../../subscribers/subscribers.service';
import { AdminAuthRepository, AdminIdentity, ApiTokenRow } from './admin-auth.repository';
import { DUMMY_HASH, hashPassword, passwordProblem, randomSecret, sha256, verifyPassword } from './password';

export type LoginResult = { ok: true; sessionId: string; admin: AdminIdentity } | { ok: false; retryAfter?: number };

const TOKEN_PREFIX = 'pbat_';

/**
 * Admin identity: passwords (scrypt), browser sessions (random 256-bit ids, stored hashed, bound
 * to the password version so a password change ends them all), CSRF tokens (an HMAC of the
 * session, so nothing else to store), login throttling and API tokens (stored hashed, revocable).
 */
@Injectable()
export class AdminAuthService implements OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly byIp: RateLimiterRedis;
  private readonly byEmail: RateLimiterRedis;

  constructor(
    private readonly repo: AdminAuthRepository,
    private readonly config: AppConfig,
  ) {
    const env = config.env;
    this.redis = new IORedis({ ...redisOptionsFromUrl(env.REDIS_URL), maxRetriesPerRequest: 1, lazyConnect: true });
    const limiter = (name: string) =>
      new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${env.QUEUE_PREFIX}:rate:admin-login-${name}`, points: env.ADMIN_LOGIN_ATTEMPTS, duration: 15 * 60 });
    this.byIp = limiter('ip');
    this.byEmail = limiter('email');
  }

  async createAdmin(rawEmail: string, password: string): Promise<number> {
    const email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) throw new BadRequestException(`email: "${rawEmail}" is not a valid address`);
    const problem = passwordProblem(password);
    if (problem) throw new BadRequestException(problem);
    const id = await this.repo.createAdmin(email, await hashPassword(password));
    if (id === null) throw new BadRequestException(`email: an admin ${email} already exists`);
    return id;
  }

  /**
   * Failed attempts are counted per client IP and per address; past the limit every attempt is
   * refused (even a right password) until the window passes. Unknown addresses cost a hash too.
   */
  async login(rawEmail: string, password: string, ip: string): Promise<LoginResult> {
    const email = normalizeEmail(rawEmail).slice(0, 254);
    const blocked = Math.max(await this.blockedFor(this.byIp, ip), await this.blockedFor(this.byEmail, email));
    if (blocked > 0) return { ok: false, retryAfter: blocked };
    const admin = await this.repo.adminByEmail(email);
    const ok = await verifyPassword(password.slice(0, 1024), admin?.passwordHash ?? DUMMY_HASH);
    if (!admin || !ok) {
      await Promise.all([this.penalise(this.byIp, ip), this.penalise(this.byEmail, email)]);
      return { ok: false };
    }
    await this.byEmail.delete(email);
    return { ok: true, sessionId: await this.newSession(admin.id, admin.passwordVersion), admin: { id: admin.id, email: admin.email } };
  }

  async sessionAdmin(sessionId: string): Promise<AdminIdentity | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return null;
    return this.repo.sessionAdmin(sha256(sessionId));
  }

  async logout(sessionId: string): Promise<void> {
    await this.repo.deleteSession(sha256(sessionId));
  }

  /** Changes the password and ends every session of the admin; returns a new session for the caller. */
  async changePassword(adminId: number, current: string, next: string): Promise<string> {
    const admin = await this.repo.adminById(adminId);
    if (!admin || !(await verifyPassword(current, admin.passwordHash))) throw new BadRequestException('current password: not right');
    const problem = passwordProblem(next);
    if (problem) throw new BadRequestException(problem);
    const version = await this.repo.changePassword(adminId, await hashPassword(next));
    return this.newSession(adminId, version);
  }

  /** For `cli admin:password`: no current password (the operator has the server). Ends every session. */
  async resetPassword(rawEmail: string, next: string): Promise<void> {
    const admin = await this.repo.adminByEmail(normalizeEmail(rawEmail));
    if (!admin) throw new BadRequestException(`email: no admin ${rawEmail}`);
    const problem = passwordProblem(next);
    if (problem) throw new BadRequestException(problem);
    await this.repo.changePassword(admin.id, await hashPassword(next));
  }

  /** The synchronizer token of a session: HMAC(secret, session), so it needs no storage and dies with the session. */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.config.env.APP_SECRET).update(`admin-csrf:${sessionId}`).digest('base64url');
  }

  /** Login CSRF (before there is a session): a random cookie, and its HMAC in the form (double submit, signed). */
  loginCsrf(cookieValue: string): string {
    return createHmac('sha256', this.config.env.APP_SECRET).update(`admin-login-csrf:${cookieValue}`).digest('base64url');
  }

  checkLoginCsrf(cookieValue: string | undefined, token: unknown): boolean {
    if (!cookieValue || typeof token !== 'string') return false;
    const a = Buffer.from(this.loginCsrf(cookieValue));
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  checkCsrf(sessionId: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const a = Buffer.from(this.csrfToken(sessionId));
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The token is returned once; only its sha256 is kept. */
  async createApiToken(adminId: number, name: string): Promise<{ id: number; token: string }> {
    const clean = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
    if (!clean) throw new BadRequestException('name: give the token a name');
    const token = TOKEN_PREFIX + randomSecret();
    const id = await this.repo.createToken(adminId, clean, sha256(token), token.slice(0, TOKEN_PREFIX.length + 6));
    return { id, token };
  }

  async tokenAdmin(token: string): Promise<AdminIdentity | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length !== TOKEN_PREFIX.length + 43) return null;
    return this.repo.tokenAdmin(sha256(token));
  }

  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.repo.listTokens();
  }

  revokeApiToken(id: number): Promise<boolean> {
    return this.repo.revokeToken(id);
  }

  hasAdmins(): Promise<boolean> {
    return this.repo.countAdmins().then((n) => n > 0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }

  private async newSession(adminId: number, passwordVersion: number): Promise<string> {
    const sessionId = randomSecret();
    const ttl = this.config.env.ADMIN_SESSION_TTL_HOURS * 3600_000;
    await this.repo.createSession(sha256(sessionId), adminId, passwordVersion, new Date(Date.now() + ttl));
    return sessionId;
  }

  private async blockedFor(limiter: RateLimiterRedis, key: string): Promise<number> {
    const r = await limiter.get(key);
    return r && r.consumedPoints >= this.config.env.ADMIN_LOGIN_ATTEMPTS ? Math.max(1, Math.ceil(r.msBeforeNext / 1000)) : 0;
  }

  private async penalise(limiter: RateLimiterRedis, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
    }
  }
}
