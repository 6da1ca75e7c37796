import { describe, expect, it } from '@jest/globals';
import {
  AppError,
  CommonErrors,
  ERROR_FIELD_MAX_LENGTH,
  ERROR_MESSAGE_MAX_LENGTH,
  clip,
} from './app-error.js';

describe('error text bounds', () => {
  it('clips what a client can make long: an unknown property named in a 400, a message', () => {
    const name = 'x'.repeat(100_000);
    const error = CommonErrors.validation([
      { field: name, message: `property ${name} should not exist` },
    ]);
    const [detail] = error.details as { field: string; message: string }[];
    expect(detail?.field).toHaveLength(ERROR_FIELD_MAX_LENGTH);
    expect(detail?.message).toHaveLength(ERROR_MESSAGE_MAX_LENGTH);
    expect(detail?.message.endsWith('…')).toBe(true);
    expect(new AppError('VALIDATION_ERROR', name).message).toHaveLength(ERROR_MESSAGE_MAX_LENGTH);
  });

  it('leaves short text alone and never cuts a surrogate pair in half', () => {
    expect(clip('email must be an email', 30)).toBe('email must be an email');
    expect(clip('ab😀cd', 4)).toBe('ab…');
  });
});
