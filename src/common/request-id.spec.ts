import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { requestIdFor } from './request-id.js';

const withHeader = (value?: string | string[]) =>
  ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as unknown as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it('keeps a sane client id', () => {
    expect(requestIdFor(withHeader('req_01HZX.trace:7-a'))).toBe('req_01HZX.trace:7-a');
    expect(requestIdFor(withHeader(['first-id', 'second']))).toBe('first-id');
  });

  it.each(['', 'has space', 'x'.repeat(129), 'quote"', 'new\nline', 'ü'])(
    'replaces %j with a UUID',
    (value) => {
      expect(requestIdFor(withHeader(value))).toMatch(UUID);
    },
  );

  it('generates a UUID when none is sent', () => {
    expect(requestIdFor(withHeader())).toMatch(UUID);
  });
});
