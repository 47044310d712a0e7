import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { QUEUES } from '../infra/queue/queues';
import { authenticate } from './auth/admin-auth.guard';
import { AdminAuthService } from './auth/admin-auth.service';

export const BOARD_PATH = '/admin/queues';

/**
 * bull-board (the BullMQ dashboard) at /admin/queues, behind the admin session. Its UI calls its
 * own JSON API with fetch and cannot carry our CSRF token, so state-changing calls must come from
 * this origin (Origin / Sec-Fetch-Site), on top of the SameSite=Strict cookie.
 */
@Injectable()
export class QueuesBoard implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AdminAuthService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const http = this.host?.httpAdapter;
    if (!http) return; // the worker process and the CLI have no HTTP server
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(BOARD_PATH);
    const queues = Object.values(QUEUES).map((name) => new BullMQAdapter(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false })));
    createBullBoard({ queues, serverAdapter, options: { uiConfig: { boardTitle: 'Paperboy queues' } } });
    const app = http.getInstance() as { use: (path: string, ...handlers: unknown[]) => void };
    app.use(BOARD_PATH, (req: Request, res: Response, next: NextFunction) => void this.guard(req, res, next), serverAdapter.getRouter());
  }

  private async guard(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const admin = await authenticate(req, this.auth, this.config);
      if (!admin || admin.via !== 'session') {
        if (req.method === 'GET') res.redirect(303, `/admin/login?next=${encodeURIComponent(BOARD_PATH)}`);
        else res.status(401).json({ statusCode: 401, message: 'Log in to the admin console' });
        return;
      }
      if (!['GET', 'HEAD'].includes(req.method) && !this.sameOrigin(req)) {
        res.status(403).json({ statusCode: 403, message: 'cross-site request refused' });
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Frame-Options', 'DENY');
      next();
    } catch (e) {
      next(e);
    }
  }

  private sameOrigin(req: Request): boolean {
    if (req.headers['sec-fetch-site'] === 'same-origin') return true;
    const origin = req.headers.origin;
    return typeof origin === 'string' && origin === `${req.protocol}://${req.headers.host}`;
  }
}
