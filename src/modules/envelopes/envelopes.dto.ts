import { ApiProperty } from '@nestjs/swagger';
import { FromDecimalText, INT32_MAX, IntRange } from '../../common/int-range.js';

export class EnvelopeRouteParams {
  @ApiProperty({ example: 42, description: "The project's id (the DSN's last path segment)" })
  @FromDecimalText(10)
  @IntRange(1, INT32_MAX)
  project_id: number;
}

/** Sentry's answer to an accepted envelope (a wire protocol: not wrapped in `data`). */
export class EnvelopeAcceptedResponse {
  @ApiProperty({
    example: '9ec79c33ec9942ab8353589fcb2e04dc',
    pattern: '^[0-9a-f]{32}$',
    maxLength: 32,
    description:
      "The envelope's event_id (its header's, else its first event's), as 32 lowercase hex digits; without one, the stored envelope's id in the same form",
  })
  id: string;
}
