import { BadRequestException, Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SourcesService } from '../../ingestion/sources/sources.service';
import { AdminAuthGuard } from '../auth/admin-auth.guard';

/** Every pull of every feed source (what `cli sources:status` prints), for admins and automation. */
@ApiTags('admin: sources')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller('api/admin/source-pulls')
@UseGuards(AdminAuthGuard)
export class SourcePullsApiController {
  constructor(private readonly sources: SourcesService) {}

  @Get()
  @ApiOperation({ summary: 'Enabled sources with their schedules and last pull, and the most recent pulls (new / updated / skipped papers, errors)' })
  @ApiQuery({ name: 'limit', required: false, example: 20 })
  @ApiOkResponse({
    schema: {
      example: {
        sources: [{ name: 'hf-daily', schedule: '30 23 * * *' }],
        pulls: [{ id: 3, source: 'hf-daily', trigger: 'schedule', status: 'ok', digests: 1, newPapers: 12, updatedPapers: 3, skippedPapers: 0, error: null }],
        arxivIntervalMs: 3000,
      },
    },
  })
  status(@Query('limit') limit?: string) {
    const n = limit === undefined ? 20 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) throw new BadRequestException('limit: a whole number from 1 to 500');
    return this.sources.status(n);
  }
}
