import { Controller, Get, Header, Param } from '@nestjs/common';
import { paperLink } from '../ingestion/parsers/paper-identity';
import { TokensService } from '../subscribers/tokens.service';
import { escapeHtml, page } from '../web/html';
import { DeliveryRepository } from './delivery.repository';

const NOT_FOUND = page('Link not valid', '<h1>This link is not valid</h1><p>It may be mistyped or too old.</p>');

/** The "and N more" page of an email: every paper the delivery carried, reached by a signed link. */
@Controller('deliveries')
export class DeliveryPageController {
  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly tokens: TokensService,
  ) {}

  @Get(':token')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'private, no-store')
  @Header('X-Robots-Tag', 'noindex')
  async show(@Param('token') token: string): Promise<string> {
    const id = this.tokens.verify('delivery', token);
    const d = id ? await this.deliveries.content(Number(id)) : undefined;
    if (!d) return NOT_FOUND;
    const items = d.papers
      .map(
        (p) => `<li><a href="${escapeHtml(paperLink(p))}">${escapeHtml(p.title)}</a>
<p class="muted">${escapeHtml(p.topics.join(' · '))} — ${escapeHtml(p.why)}</p></li>`,
      )
      .join('\n');
    return page(`${d.papers.length} papers`, `<h1>All ${d.papers.length} papers of this email</h1><ol>${items}</ol>`);
  }
}
