import { timingSafeEqual, createHash } from 'node:crypto';
import { BadRequestException, Body, Controller, Headers, HttpCode, NotFoundException, Post, UnauthorizedException } from '@nestjs/common';
import { z } from 'zod';
import { AppConfig } from '../config/app-config';
import { normalizeEmail } from '../subscribers/subscribers.service';
import { DeliveryRepository } from './delivery.repository';

const bounceBody = z.object({
  events: z
    .array(z.object({ email: z.string().min(3).max(254), type: z.enum(['hard', 'soft', 'complaint']) }))
    .min(1)
    .max(1000),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bounce and complaint notifications from the mail provider:
 * `POST /api/webhooks/bounces` with `Authorization: Bearer <BOUNCE_WEBHOOK_SECRET>` and
 * `{ "events": [ { "email": "…", "type": "hard" | "soft" | "complaint" } ] }`.
 * Disabled (404) unless BOUNCE_WEBHOOK_SECRET is set.
 */
@Controller('api/webhooks/bounces')
export class BouncesController {
  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  async receive(@Body() body: unknown, @Headers('authorization') auth?: string): Promise<{ processed: number; suppressed: number; unknown: number }> {
    const secret = this.config.env.BOUNCE_WEBHOOK_SECRET;
    if (!secret) throw new NotFoundException();
    const given = /^Bearer (.+)$/.exec(auth ?? '')?.[1] ?? '';
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    if (!timingSafeEqual(digest(given), digest(secret))) throw new UnauthorizedException('a valid bearer token is required');
    const parsed = bounceBody.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new BadRequestException(`${i.path.join('.') || 'body'}: ${i.message}`);
    }
    let suppressed = 0;
    let unknown = 0;
    for (const e of parsed.data.events) {
      const r = await this.deliveries.applyBounce(normalizeEmail(e.email), e.type, this.config.env.SOFT_BOUNCE_LIMIT);
      if (!r.known) unknown++;
      else if (r.suppressed) suppressed++;
    }
    return { processed: parsed.data.events.length, suppressed, unknown };
  }
}
