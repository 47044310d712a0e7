import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../infra/prisma/prisma.service';

export interface AdminIdentity {
  id: number;
  email: string;
}

export interface ApiTokenRow {
  id: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

@Injectable()
export class AdminAuthRepository {
  constructor(private readonly prisma: PrismaService) {}

  async createAdmin(email: string, passwordHash: string): Promise<number | null> {
    const existing = await this.prisma.adminUser.findUnique({ where: { email }, select: { id: true } });
    if (existing) return null;
    return (await this.prisma.adminUser.create({ data: { email, passwordHash }, select: { id: true } })).id;
  }

  adminByEmail(email: string) {
    return this.prisma.adminUser.findUnique({ where: { email }, select: { id: true, email: true, passwordHash: true, passwordVersion: true } });
  }

  adminById(id: number) {
    return this.prisma.adminUser.findUnique({ where: { id }, select: { id: true, email: true, passwordHash: true, passwordVersion: true } });
  }

  async countAdmins(): Promise<number> {
    return this.prisma.adminUser.count();
  }

  /** New hash and version, and every session of the admin goes, in one transaction. */
  async changePassword(adminId: number, passwordHash: string): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const a = await tx.adminUser.update({ where: { id: adminId }, data: { passwordHash, passwordVersion: { increment: 1 } }, select: { passwordVersion: true } });
      await tx.adminSession.deleteMany({ where: { adminId } });
      return a.passwordVersion;
    });
  }

  async createSession(idHash: string, adminId: number, passwordVersion: number, expiresAt: Date): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.adminSession.create({ data: { idHash, adminId, passwordVersion, expiresAt } }),
      this.prisma.adminUser.update({ where: { id: adminId }, data: { lastLoginAt: new Date() } }),
      // Expired sessions are swept as new ones are made.
      this.prisma.adminSession.deleteMany({ where: { expiresAt: { lt: new Date() } } }),
    ]);
  }

  /** The session's admin, if the session exists, has not expired and predates no password change. */
  async sessionAdmin(idHash: string): Promise<AdminIdentity | null> {
    const s = await this.prisma.adminSession.findUnique({
      where: { idHash },
      select: { expiresAt: true, passwordVersion: true, admin: { select: { id: true, email: true, passwordVersion: true } } },
    });
    if (!s || s.expiresAt <= new Date() || s.passwordVersion !== s.admin.passwordVersion) return null;
    return { id: s.admin.id, email: s.admin.email };
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.prisma.adminSession.deleteMany({ where: { idHash } });
  }

  async createToken(adminId: number, name: string, tokenHash: string, prefix: string): Promise<number> {
    return (await this.prisma.apiToken.create({ data: { adminId, name, tokenHash, prefix }, select: { id: true } })).id;
  }

  async tokenAdmin(tokenHash: string): Promise<AdminIdentity | null> {
    const t = await this.prisma.apiToken.findUnique({ where: { tokenHash }, select: { id: true, revokedAt: true, admin: { select: { id: true, email: true } } } });
    if (!t || t.revokedAt) return null;
    await this.prisma.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date() } });
    return t.admin;
  }

  listTokens(): Promise<ApiTokenRow[]> {
    return this.prisma.apiToken.findMany({
      select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      orderBy: { id: 'desc' },
    });
  }

  async revokeToken(id: number): Promise<boolean> {
    return (await this.prisma.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } })).count > 0;
  }
}
