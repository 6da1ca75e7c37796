import { describe, expect, it } from '@jest/globals';
import { Command } from 'ioredis';
import { encodeLimiterCall } from './limiter-command.js';

describe('encodeLimiterCall', () => {
  const parts = {
    keys: ['revoked:{org}:key:1', 'rl:{org}:key:1:log:60000', 'limits-generation:{org}'],
    beforeMember: [0, 1, 1],
    afterMember: [0, 0, 60_000, 100, 0, ''],
  };

  it('writes what ioredis would write for the same EVALSHA, whatever the member', () => {
    const call = encodeLimiterCall(parts, 'gh:');
    for (const member of ['p:1', 'a-longer-process-id:123456']) {
      const args = [...call.args];
      args[call.memberIndex] = member;
      const expected = new Command('evalsha', args).toWritable({});
      expect(`${call.head}$${member.length}\r\n${member}\r\n${call.tail}`).toBe(expected);
    }
  });

  it('prefixes the keys, counts them and puts the member between its arguments', () => {
    const call = encodeLimiterCall(parts, 'gh:');
    expect(call.args[1]).toBe('3');
    expect(call.args.slice(2, 5)).toEqual(parts.keys.map((key) => `gh:${key}`));
    expect(call.args.slice(5, call.memberIndex)).toEqual(['0', '1', '1']);
    expect(call.args.slice(call.memberIndex + 1)).toEqual(['0', '0', '60000', '100', '0', '']);
  });

  it('counts bytes, not characters, in its lengths', () => {
    const call = encodeLimiterCall({ ...parts, keys: ['rl:{organisation-é}:key:1'] }, '');
    const expected = new Command('evalsha', [...call.args]).toWritable({});
    expect(`${call.head}$0\r\n\r\n${call.tail}`).toBe(expected);
  });
});
