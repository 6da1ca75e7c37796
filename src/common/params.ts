import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsUUID, Max, Min } from 'class-validator';

/** `:id` of a UUID resource; anything else is a 400, not a database error. */
export class UuidParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id: string;
}

/** `:id` of an integer resource (projects). */
export class IntIdParam {
  @ApiProperty({ type: 'integer', minimum: 1 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  id: number;
}
