import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import {
  ApiDataResponse,
  ApiPageResponse,
  type Data,
  type Page,
  data,
} from '../../common/envelope.js';
import { PageQuery } from '../../common/pagination.js';
import { UuidParam } from '../../common/params.js';
import { Authenticated, PlatformManagement, RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import {
  AddMemberDto,
  ChangeMemberRoleDto,
  CreateOrganizationDto,
  InvitationResponse,
  MemberParams,
  MemberResponse,
  OrganizationResponse,
  ReplaceOrganizationDto,
  UpdateOrganizationDto,
} from './organizations.dto.js';
import { OrganizationsService } from './organizations.service.js';

@ApiTags('organizations')
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The organizations the caller belongs to' })
  @ApiPageResponse(OrganizationResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: PageQuery,
  ): Promise<Page<OrganizationResponse>> {
    return this.organizations.listMine(ctx, query);
  }

  @Post()
  @Authenticated()
  @ApiOperation({ summary: 'Create an organization; the caller becomes its owner (users only)' })
  @ApiDataResponse(OrganizationResponse, 201, 'Created')
  @ApiErrors(400, 409, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateOrganizationDto,
  ): Promise<Data<OrganizationResponse>> {
    return data(await this.organizations.create(ctx, dto));
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({
    summary: 'Get an organization the caller belongs to',
    description:
      'A platform administrator may read any organization (read-only; `role` is null when they are not a member of it), to see its tier and own rate-limit set. Anyone else gets a 404 for an organization they do not belong to.',
  })
  @ApiDataResponse(OrganizationResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<OrganizationResponse>> {
    return data(await this.organizations.get(ctx, id));
  }

  @Put(':id')
  @PlatformManagement()
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      "Replace the credential's organization (tier and rate_limits: platform administrators only)",
    description:
      "Any other organization's id is a 404, except for a platform administrator, who gets a 403 PERMISSION_DENIED: a replacement carries name and slug, which only the organization's own administrators change. Platform administrators set another organization's plan with PATCH {tier?, rate_limits?}.",
  })
  @ApiDataResponse(OrganizationResponse)
  @ApiErrors(400, 403, 404, 409)
  async replace(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: ReplaceOrganizationDto,
  ): Promise<Data<OrganizationResponse>> {
    return data(await this.organizations.update(ctx, id, dto));
  }

  @Patch(':id')
  @PlatformManagement()
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      "Change the credential's organization (tier and rate_limits: platform administrators only)",
    description:
      "A platform administrator may also PATCH any other organization, with `tier` and `rate_limits` only (its own rate-limit set; null clears it, back to the tier's): any other field sent for another organization is a 403 PERMISSION_DENIED and changes nothing. The response is that organization (`role` null when the administrator is not a member), the change is audited in that organization's trail, and every api process applies the new limits within a second. A platform administrator's calls here are never rate limited. For anyone else, an organization other than the credential's is a 404.",
  })
  @ApiDataResponse(OrganizationResponse)
  @ApiErrors(400, 403, 404, 409)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateOrganizationDto,
  ): Promise<Data<OrganizationResponse>> {
    return data(await this.organizations.update(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('org:delete')
  @ApiOperation({
    summary: 'Delete the organization with its projects, memberships and sessions (owners only)',
  })
  @ApiErrors(400, 404)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.organizations.remove(ctx, id);
  }

  @Get(':id/members')
  @RequirePermission('users:read')
  @ApiOperation({ summary: 'List members, and pending invitations (status "invited")' })
  @ApiPageResponse(MemberResponse)
  @ApiErrors(400, 404)
  listMembers(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Query() query: PageQuery,
  ): Promise<Page<MemberResponse>> {
    return this.organizations.listMembers(ctx, id, query);
  }

  @Post(':id/members')
  @HttpCode(202)
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      'Invite an existing account by user_id or email (users only: an API key cannot grant roles); ' +
      'it becomes a member when its holder accepts, within 7 days',
  })
  @ApiDataResponse(InvitationResponse, 202, 'Invitation created; not a membership yet')
  @ApiErrors(400, 404, 409, 422)
  async addMember(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: AddMemberDto,
  ): Promise<Data<InvitationResponse>> {
    return data(await this.organizations.addMember(ctx, id, dto));
  }

  @Patch(':id/members/:user_id')
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      "Change a member's role: not above your own rank, not of a higher-ranked member; " +
      'owner only by an owner; the last owner cannot be demoted; users only',
  })
  @ApiDataResponse(MemberResponse)
  @ApiErrors(400, 404, 409)
  async changeRole(
    @Auth() ctx: AuthenticatedContext,
    @Param() params: MemberParams,
    @Body() dto: ChangeMemberRoleDto,
  ): Promise<Data<MemberResponse>> {
    return data(
      await this.organizations.changeMemberRole(ctx, params.id, params.user_id, dto.role),
    );
  }

  @Delete(':id/members/:user_id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      'Remove a member of your rank or lower, or cancel a pending invitation (the last owner cannot be removed)',
  })
  @ApiErrors(400, 404, 409)
  async removeMember(
    @Auth() ctx: AuthenticatedContext,
    @Param() params: MemberParams,
  ): Promise<void> {
    await this.organizations.removeMember(ctx, params.id, params.user_id);
  }
}
