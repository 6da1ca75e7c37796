import { describe, expect, it } from '@jest/globals';
import { copyTextOf, latestUseByKey } from './usage-logs.writer.js';
import { type UsageRecord, usageBatchOf, usageRowId } from './usage-record.js';

const PREFIX = '0f8c2a34-5b6d-4e7f-8a9b-';

const record = (overrides: Partial<UsageRecord>): UsageRecord => ({
  id: '',
  created_at: '2026-12-01T10:00:00.123Z',
  organization_id: '11111111-1111-4111-8111-111111111111',
  api_key_id: '22222222-2222-4222-8222-222222222222',
  user_id: null,
  project_id: 3,
  method: 'GET',
  path: '/api/v1/things/1',
  route: '/api/v1/things/:id',
  status: 200,
  response_time_ms: 12.345,
  request_bytes: 0,
  response_bytes: 512,
  ip: '10.0.0.1',
  user_agent: 'client/1.0',
  api_version: '2026-01-01',
  error_code: null,
  request_id: 'req-1',
  limit_type: null,
  limit_value: null,
  current_usage: null,
  ...overrides,
});

const RECORDS = [
  record({}),
  // Every character COPY's text format gives a meaning to, in the free-text columns.
  record({
    created_at: '2026-12-01T10:00:01.000Z',
    path: '/api/v1/a\tb\\c',
    user_agent: 'evil\nagent\r\0\\N',
    status: 429,
    error_code: 'RATE_LIMIT_EXCEEDED',
    limit_type: 'minute',
    limit_value: 100,
    current_usage: 101,
  }),
  record({ api_key_id: null, user_id: '33333333-3333-4333-8333-333333333333', project_id: null }),
];

describe('usage batch as COPY text', () => {
  it('writes compact rows exactly as the same records in object form', () => {
    const objects = RECORDS.map((r, i) => ({ ...r, id: usageRowId(PREFIX, i) }));
    const text = copyTextOf(usageBatchOf(RECORDS, PREFIX));
    expect(text).toBe(copyTextOf({ records: objects }));
    const lines = text.split('\n');
    expect(lines).toHaveLength(RECORDS.length + 1);
    expect(lines[1]).toContain('\t/api/v1/a\\tb\\\\c\t');
    expect(lines[1]).toContain('\tevil\\nagent\\r\uFFFD\\\\N\t');
    expect(lines[2]?.split('\t')[3]).toBe('\\N');
  });

  it('takes each key’s latest use, in either form', () => {
    const later = record({ created_at: '2026-12-01T10:05:00.000Z' });
    const batch = [later, ...RECORDS];
    const expected = new Map([['22222222-2222-4222-8222-222222222222', later.created_at]]);
    expect(latestUseByKey(usageBatchOf(batch, PREFIX))).toEqual(expected);
    expect(latestUseByKey({ records: batch })).toEqual(expected);
  });
});
