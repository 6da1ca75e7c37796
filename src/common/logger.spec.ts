import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('writes one JSON line per message with URL passwords replaced', () => {
    const lines: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    createLogger('log').log(
      { msg: 'connecting', to: 'postgres://app:hunter2@db:5432/app' },
      'Test',
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      message: { msg: 'connecting', to: 'postgres://app:***@db:5432/app' },
      context: 'Test',
    });
    expect(lines[0]).not.toContain('hunter2');
  });
});
