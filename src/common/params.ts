import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { FromDecimalText, INT32_MAX, IntRange } from './int-range.js';

/** `:id` of a UUID resource; anything else is a 400, not a database error. */
export class UuidParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id: string;
}

/** `:id` of an integer resource (projects). */
export class IntIdParam {
  @ApiProperty({ example: 42 })
  @FromDecimalText(10)
  @IntRange(1, INT32_MAX)
  id: number;
}
