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
import { IntIdParam } from '../../common/params.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import {
  CreateProjectDto,
  ProjectResponse,
  ReplaceProjectDto,
  UpdateProjectDto,
} from './projects.dto.js';
import { ProjectsService } from './projects.service.js';

@ApiTags('projects')
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @RequirePermission('projects:read')
  @ApiOperation({ summary: "List the organization's projects" })
  @ApiPageResponse(ProjectResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: PageQuery,
  ): Promise<Page<ProjectResponse>> {
    return this.projects.list(ctx, query);
  }

  @Post()
  @RequirePermission('projects:write')
  @ApiOperation({ summary: 'Create a project (with its DSN)' })
  @ApiDataResponse(ProjectResponse, 201, 'Created')
  @ApiErrors(400, 409, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateProjectDto,
  ): Promise<Data<ProjectResponse>> {
    return data(await this.projects.create(ctx, dto));
  }

  @Get(':id')
  @RequirePermission('projects:read')
  @ApiOperation({ summary: 'Get a project' })
  @ApiDataResponse(ProjectResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: IntIdParam,
  ): Promise<Data<ProjectResponse>> {
    return data(await this.projects.get(ctx, id));
  }

  @Put(':id')
  @RequirePermission('projects:write')
  @ApiOperation({ summary: 'Replace a project (platform is cleared when left out)' })
  @ApiDataResponse(ProjectResponse)
  @ApiErrors(400, 404, 409)
  async replace(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: IntIdParam,
    @Body() dto: ReplaceProjectDto,
  ): Promise<Data<ProjectResponse>> {
    return data(await this.projects.replace(ctx, id, dto));
  }

  @Patch(':id')
  @RequirePermission('projects:write')
  @ApiOperation({ summary: 'Change the fields sent' })
  @ApiDataResponse(ProjectResponse)
  @ApiErrors(400, 404, 409)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: IntIdParam,
    @Body() dto: UpdateProjectDto,
  ): Promise<Data<ProjectResponse>> {
    return data(await this.projects.update(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('projects:delete')
  @ApiOperation({ summary: 'Delete a project' })
  @ApiErrors(400, 404)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: IntIdParam): Promise<void> {
    await this.projects.remove(ctx, id);
  }
}
