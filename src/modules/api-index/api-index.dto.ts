import { ApiProperty } from '@nestjs/swagger';

export class ApiIndexLinks {
  @ApiProperty({
    format: 'uri',
    example: 'http://localhost:3000/docs',
    description: 'Interactive docs (Swagger UI)',
  })
  docs: string;

  @ApiProperty({
    format: 'uri',
    example: 'http://localhost:3000/openapi.json',
    description: 'This API as an OpenAPI 3 document',
  })
  openapi: string;

  @ApiProperty({
    format: 'uri',
    example: 'http://localhost:3000/health/ready',
    description: 'Readiness: 200 when Postgres and Redis answer',
  })
  health: string;

  @ApiProperty({
    format: 'uri',
    example: 'http://localhost:3000/api/v1/versions',
    description: 'The API versions and their lifecycle',
  })
  versions: string;
}

export class ApiIndexResponse {
  @ApiProperty({ example: 'Gatehouse API' })
  name: string;

  @ApiProperty({ example: 'v1', description: 'The API version of this path' })
  version: string;

  @ApiProperty({ type: ApiIndexLinks })
  links: ApiIndexLinks;
}
