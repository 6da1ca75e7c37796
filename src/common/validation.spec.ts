import { describe, expect, it } from '@jest/globals';
import type { ValidationError } from '@nestjs/common';
import { fieldErrors } from './validation.js';

describe('fieldErrors', () => {
  it('flattens nested errors into dotted fields, one entry per constraint', () => {
    const errors: ValidationError[] = [
      { property: 'email', constraints: { isEmail: 'email must be an email' }, children: [] },
      {
        property: 'rate_limits',
        children: [
          {
            property: '0',
            children: [
              {
                property: 'limit',
                constraints: {
                  min: 'limit must not be less than 1',
                  isInt: 'limit must be an integer',
                },
                children: [],
              },
            ],
          },
        ],
      },
    ];
    expect(fieldErrors(errors)).toEqual([
      { field: 'email', message: 'email must be an email' },
      { field: 'rate_limits.0.limit', message: 'limit must not be less than 1' },
      { field: 'rate_limits.0.limit', message: 'limit must be an integer' },
    ]);
  });
});
