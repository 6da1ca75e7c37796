import { ApiPropertyOptional } from '@nestjs/swagger';
import { FromDecimalText, IntRange } from './int-range.js';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** Far past any real list, and well inside Postgres's bigint. */
export const MAX_OFFSET = 1_000_000_000;

/** `?limit&offset` for every list route: limit 1-100 (default 20), offset from 0. */
export class PageQuery {
  @ApiPropertyOptional({ default: DEFAULT_LIMIT, example: 20 })
  @FromDecimalText()
  @IntRange(1, MAX_LIMIT)
  limit: number = DEFAULT_LIMIT;

  @ApiPropertyOptional({ default: 0, example: 0 })
  @FromDecimalText()
  @IntRange(0, MAX_OFFSET)
  offset: number = 0;
}
