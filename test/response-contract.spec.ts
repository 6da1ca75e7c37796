import { describe, expect, it } from '@jest/globals';
import { type Exchange, problemWith } from './support/response-contract.js';

const KEY_ID = '00000000-0000-4000-8000-000000000000';
const ERROR = {
  error: {
    code: 'RESOURCE_NOT_FOUND',
    message: 'Resource not found',
    details: null,
    request_id: 'r',
  },
};

function exchange(
  method: string,
  path: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Exchange {
  return {
    method,
    path,
    requestHeaders: new Headers(),
    status,
    headers: new Headers(headers),
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** The checker every e2e response goes through (test/support/test-app.ts), on made-up responses. */
describe('response contract', () => {
  it.each<[string, Exchange]>([
    ['a documented body', exchange('GET', '/health', 200, { status: 'ok' })],
    [
      'a page',
      exchange('GET', '/api/v1/keys?limit=20', 200, { data: [], total: 0, limit: 20, offset: 0 }),
    ],
    ['an error under its status', exchange('GET', `/api/v1/keys/${KEY_ID}`, 404, ERROR)],
    ['413 under default', exchange('POST', '/api/v1/keys', 413, ERROR)],
    ['HEAD of a GET, without a body', exchange('HEAD', '/health', 200, undefined)],
    ['204 without a body', exchange('DELETE', `/api/v1/keys/${KEY_ID}`, 204, undefined)],
    ['404 for a path the document lacks', exchange('GET', '/api/v1/nothing', 404, ERROR)],
    [
      '405 with Allow for a method a path lacks',
      exchange('PUT', '/api/v1/auth/login', 405, ERROR, { allow: 'POST' }),
    ],
    [
      'an integer header',
      exchange(
        'GET',
        '/api/v1/keys',
        200,
        { data: [], total: 0, limit: 20, offset: 0 },
        {
          'x-ratelimit-remaining': '99',
        },
      ),
    ],
    ['a probe of the tests', exchange('GET', '/api/v1/probe/numbers', 200, [1])],
  ])('accepts %s', (_, response) => {
    expect(problemWith(response)).toBeNull();
  });

  it.each<[string, Exchange, string]>([
    ['a wrong type', exchange('GET', '/health', 200, { status: 5 }), '/status must be string'],
    [
      'a field the document does not name',
      exchange('GET', '/health', 200, { status: 'ok', uptime: 1 }),
      'must NOT have additional properties',
    ],
    [
      'an object where the document says a list',
      exchange('POST', '/api/v1/users/batch', 200, { data: { index: 0, status: 201 } }),
      '/data must be array',
    ],
    [
      'a number in text',
      exchange('GET', '/api/v1/keys', 200, { data: [], total: 0, limit: '20', offset: 0 }),
      '/limit must be integer',
    ],
    [
      'an undocumented status',
      exchange('GET', `/api/v1/keys/${KEY_ID}`, 409, ERROR),
      'status not documented',
    ],
    [
      'a success on a path the document lacks',
      exchange('GET', '/api/v1/secret-route', 200, {}),
      'the path is not in the document',
    ],
    ['405 without Allow', exchange('PUT', '/api/v1/auth/login', 405, ERROR), 'no Allow header'],
    [
      'a body where the document says none',
      exchange('POST', '/api/v1/auth/logout', 204, {}),
      'no body',
    ],
    [
      'a header that is not what the document says',
      exchange(
        'GET',
        '/api/v1/keys',
        200,
        { data: [], total: 0, limit: 20, offset: 0 },
        {
          'x-ratelimit-remaining': 'many',
        },
      ),
      'header X-RateLimit-Remaining',
    ],
  ])('refuses %s', (_, response, message) => {
    expect(problemWith(response)).toContain(message);
  });
});
