import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiDataResponse, type Data, data } from '../../common/envelope.js';
import { Public } from '../../common/permissions.js';
import { AppConfig } from '../../config/config.classes.js';
import { API_NAME, ApiIndexResponse } from './api-index.dto.js';

/** `GET /api/v1`: where a newcomer lands first (the launcher's banner links here). */
@ApiTags('index')
@Controller()
export class ApiIndexController {
  constructor(private readonly config: AppConfig) {}

  @Get()
  @Public()
  @ApiOperation({
    summary:
      'Where to go from here: the docs, the OpenAPI document, health and the versions (public)',
  })
  @ApiDataResponse(ApiIndexResponse)
  @ApiErrors(410)
  index(): Data<ApiIndexResponse> {
    const base = this.config.publicUrl;
    return data({
      name: API_NAME,
      version: 'v1',
      links: {
        docs: `${base}/docs`,
        openapi: `${base}/openapi.json`,
        health: `${base}/health/ready`,
        versions: `${base}/api/v1/versions`,
      },
    });
  }
}
