import { Body, Controller, Delete, Get, NotFoundException, Param, ParseIntPipe, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminAuthGuard, AdminRequest } from './admin-auth.guard';
import { AdminAuthService } from './admin-auth.service';

@ApiTags('admin: access')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller('api/admin')
@UseGuards(AdminAuthGuard)
export class TokensApiController {
  constructor(private readonly auth: AdminAuthService) {}

  @Get('me')
  @ApiOperation({ summary: 'The admin the token belongs to' })
  @ApiOkResponse({ schema: { example: { id: 1, email: 'admin@example.org' } } })
  me(@Req() req: AdminRequest) {
    return { id: req.admin.id, email: req.admin.email };
  }

  @Get('tokens')
  @ApiOperation({ summary: 'API tokens (never the secrets: only a recognisable prefix)' })
  @ApiOkResponse({ schema: { example: [{ id: 3, name: 'nightly export', prefix: 'pbat_x1Yz9Q', createdAt: '2026-11-23T10:00:00.000Z', lastUsedAt: null, revokedAt: null }] } })
  list() {
    return this.auth.listApiTokens();
  }

  @Post('tokens')
  @ApiOperation({ summary: 'Create a token; the response is the only time it is shown' })
  @ApiBody({ schema: { example: { name: 'nightly export' } } })
  @ApiCreatedResponse({ schema: { example: { id: 4, token: 'pbat_3q2-7wEVG8rH3kq0sRgBf0l6cO3bKm8yq1cV5y2d8nA' } } })
  create(@Req() req: AdminRequest, @Body() body: { name?: string }) {
    return this.auth.createApiToken(req.admin.id, String(body?.name ?? ''));
  }

  @Delete('tokens/:id')
  @ApiOperation({ summary: 'Revoke a token (it stops working at once)' })
  @ApiOkResponse({ schema: { example: { revoked: true } } })
  async revoke(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.auth.revokeApiToken(id))) throw new NotFoundException('no such live token');
    return { revoked: true };
  }
}
