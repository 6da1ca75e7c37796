import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiPageResponse, type Page } from '../../common/envelope.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { AuditEntryResponse, AuditQuery } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: "The organization's audit trail, newest first (read only)" })
  @ApiPageResponse(AuditEntryResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: AuditQuery,
  ): Promise<Page<AuditEntryResponse>> {
    return this.audit.list(ctx, query);
  }
}
