import type { Response } from 'express';
import { ADMIN_CSP } from './layout';

/** Admin pages are never cached, never framed, and run no script. */
export function sendPage(res: Response, html: string, status = 200): void {
  res
    .status(status)
    .setHeader('Content-Security-Policy', ADMIN_CSP)
    .setHeader('Cache-Control', 'no-store')
    .setHeader('X-Content-Type-Options', 'nosniff')
    .setHeader('X-Frame-Options', 'DENY')
    .type('html')
    .send(html);
}

/** Post/redirect/get: flash messages travel as fixed codes, never as reflected text. */
export function redirectTo(res: Response, path: string, flash?: string): void {
  const sep = path.includes('?') ? '&' : '?';
  res.redirect(303, flash ? `${path}${sep}done=${encodeURIComponent(flash)}` : path);
}
