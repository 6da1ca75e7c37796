import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
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
  EventDetailResponse,
  EventIdParam,
  EventResponse,
  EventsQuery,
  IssueResponse,
} from './events.dto.js';
import { EventsService } from './events.service.js';

/** Sentry events and issues, as the worker parsed them from ingested envelopes. */
@ApiTags('events')
@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('events')
  @RequirePermission('events:read')
  @ApiOperation({ summary: "The organization's error events, newest received first" })
  @ApiPageResponse(EventResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: EventsQuery,
  ): Promise<Page<EventResponse>> {
    return this.events.list(ctx, null, query);
  }

  @Get('events/:id')
  @RequirePermission('events:read')
  @ApiOperation({ summary: 'An event, with the decoded items of the envelope it came in' })
  @ApiDataResponse(EventDetailResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: EventIdParam,
  ): Promise<Data<EventDetailResponse>> {
    return data(await this.events.get(ctx, id));
  }

  @Get('projects/:id/events')
  @RequirePermission('events:read')
  @ApiOperation({ summary: "A project's error events, newest received first" })
  @ApiPageResponse(EventResponse)
  @ApiErrors(400, 404)
  listForProject(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: IntIdParam,
    @Query() query: EventsQuery,
  ): Promise<Page<EventResponse>> {
    return this.events.list(ctx, id, query);
  }

  @Get('projects/:id/issues')
  @RequirePermission('events:read')
  @ApiOperation({ summary: "A project's issues (events grouped by fingerprint), last seen first" })
  @ApiPageResponse(IssueResponse)
  @ApiErrors(400, 404)
  issues(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: IntIdParam,
    @Query() query: PageQuery,
  ): Promise<Page<IssueResponse>> {
    return this.events.issues(ctx, id, query);
  }
}
