import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';
import { INT32_MAX, IntRange } from './int-range.js';

/** `:id` of a UUID resource; anything else is a 400, not a database error. */
export class UuidParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id: string;
}

/** `:id` of an integer resource (projects). */
export class IntIdParam {
  @ApiProperty({ example: 42 })
  // Decimal digits only: Number() would also read `1e3`, `0x10` and ` 7` as ids.
  @Transform(({ value }) =>
    typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN,
  )
  @IntRange(1, INT32_MAX)
  id: number;
}
