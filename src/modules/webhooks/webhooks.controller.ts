import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
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
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import {
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveryResponse,
  WebhookEventResponse,
  WebhookResponse,
  WebhookRotatedSecretResponse,
  WebhookWithSecretResponse,
} from './webhooks.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @RequirePermission('webhooks:read')
  @ApiOperation({ summary: "List the organization's webhook endpoints (never their secrets)" })
  @ApiPageResponse(WebhookResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: PageQuery,
  ): Promise<Page<WebhookResponse>> {
    return this.webhooks.list(ctx, query);
  }

  @Post()
  @RequirePermission('webhooks:write')
  @ApiOperation({
    summary: 'Subscribe a URL to events; the response carries its signing secret, once',
  })
  @ApiDataResponse(WebhookWithSecretResponse, 201, 'Created')
  @ApiErrors(400, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateWebhookDto,
  ): Promise<Data<WebhookWithSecretResponse>> {
    return data(await this.webhooks.create(ctx, dto));
  }

  @Get(':id')
  @RequirePermission('webhooks:read')
  @ApiOperation({ summary: 'Get a webhook endpoint (never its secret)' })
  @ApiDataResponse(WebhookResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<WebhookResponse>> {
    return data(await this.webhooks.get(ctx, id));
  }

  @Patch(':id')
  @RequirePermission('webhooks:write')
  @ApiOperation({ summary: 'Change the fields sent (url, description, events, active)' })
  @ApiDataResponse(WebhookResponse)
  @ApiErrors(400, 404)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateWebhookDto,
  ): Promise<Data<WebhookResponse>> {
    return data(await this.webhooks.update(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('webhooks:write')
  @ApiOperation({ summary: 'Delete a webhook endpoint (pending deliveries to it are dropped)' })
  @ApiErrors(400, 404)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.webhooks.remove(ctx, id);
  }

  @Post(':id/rotate-secret')
  @RequirePermission('webhooks:write')
  @ApiOperation({
    summary:
      'Replace the signing secret; the new one is shown once, the old one signs too for 24 h',
  })
  @ApiDataResponse(WebhookRotatedSecretResponse, 201, 'Created: the new secret, shown once')
  @ApiErrors(400, 404)
  async rotateSecret(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<WebhookRotatedSecretResponse>> {
    return data(await this.webhooks.rotateSecret(ctx, id));
  }

  @Post(':id/test')
  @HttpCode(202)
  @RequirePermission('webhooks:write')
  @ApiOperation({
    summary: 'Send a webhook.test event to this endpoint (delivered by the worker; see deliveries)',
  })
  @ApiDataResponse(WebhookEventResponse, 202, 'Accepted: the event that will be delivered')
  @ApiErrors(400, 404, 409, 422)
  async test(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<WebhookEventResponse>> {
    return data(await this.webhooks.test(ctx, id));
  }

  @Get(':id/deliveries')
  @RequirePermission('webhooks:read')
  @ApiOperation({ summary: "The endpoint's delivery attempts, newest first" })
  @ApiPageResponse(WebhookDeliveryResponse)
  @ApiErrors(400, 404)
  deliveries(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Query() query: PageQuery,
  ): Promise<Page<WebhookDeliveryResponse>> {
    return this.webhooks.deliveries(ctx, id, query);
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @RequirePermission('webhooks:write')
  @ApiOperation({ summary: "Deliver an attempt's event to its endpoint once more, now" })
  @ApiDataResponse(WebhookEventResponse, 202, 'Accepted: the event that will be delivered')
  @ApiErrors(400, 404, 409, 422)
  async retry(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<WebhookEventResponse>> {
    return data(await this.webhooks.retry(ctx, id));
  }
}
