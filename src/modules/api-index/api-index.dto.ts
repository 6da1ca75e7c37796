import { ApiProperty } from '@nestjs/swagger';
import { maxLengthOf } from '../../common/openapi-bounds.js';
import { PUBLIC_URL_MAX_LENGTH } from '../../config/env.js';
import { VersionParam } from '../versions/versions.dto.js';

export const API_NAME = 'Gatehouse API';

/** A link: PUBLIC_URL and the longest path the index appends to it. */
const LINK = { format: 'uri', maxLength: PUBLIC_URL_MAX_LENGTH + '/api/v1/versions'.length };

export class ApiIndexLinks {
  @ApiProperty({
    ...LINK,
    example: 'http://localhost:3000/docs',
    description: 'Interactive docs (Swagger UI)',
  })
  docs: string;

  @ApiProperty({
    ...LINK,
    example: 'http://localhost:3000/openapi.json',
    description: 'This API as an OpenAPI 3 document',
  })
  openapi: string;

  @ApiProperty({
    ...LINK,
    example: 'http://localhost:3000/health/ready',
    description: 'Readiness: 200 when Postgres and Redis answer',
  })
  health: string;

  @ApiProperty({
    ...LINK,
    example: 'http://localhost:3000/api/v1/versions',
    description: 'The API versions and their lifecycle',
  })
  versions: string;
}

export class ApiIndexResponse {
  @ApiProperty({ enum: [API_NAME], example: API_NAME })
  name: string;

  @ApiProperty({
    example: 'v1',
    description: 'The API version of this path',
    ...maxLengthOf(VersionParam, 'version'),
  })
  version: string;

  @ApiProperty({ type: ApiIndexLinks })
  links: ApiIndexLinks;
}
