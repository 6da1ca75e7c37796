import { describe, expect, it } from '@jest/globals';
import { ROLE_PERMISSIONS, type Role } from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import { assertMayGrant, assertMayManage, outranks } from './membership-rules.js';

function user(role: Role, userId = 'caller'): Principal {
  return {
    type: 'user',
    userId,
    organizationId: 'org',
    role,
    permissions: ROLE_PERMISSIONS[role],
    isPlatformAdmin: false,
  };
}

const key: Principal = {
  type: 'api_key',
  keyId: 'key',
  name: 'automation',
  organizationId: 'org',
  projectId: null,
  environment: 'live',
  permissions: ROLE_PERMISSIONS.owner,
  rateLimits: [],
};

function code(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('membership rules', () => {
  it('nobody manages someone of a higher rank; oneself and equals are fine', () => {
    expect(code(() => assertMayManage(user('member'), { userId: 'x', role: 'admin' }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(code(() => assertMayManage(user('admin'), { userId: 'x', role: 'owner' }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(code(() => assertMayManage(user('admin'), { userId: 'x', role: 'admin' }))).toBeNull();
    expect(
      code(() => assertMayManage(user('viewer'), { userId: 'caller', role: 'viewer' })),
    ).toBeNull();
    expect(code(() => assertMayManage(key, { userId: 'x', role: 'admin' }))).toBeNull();
    expect(code(() => assertMayManage(key, { userId: 'x', role: 'owner' }))).toBe(
      'PERMISSION_DENIED',
    );
  });

  it('roles are granted by people with members:write, never above their rank; owner by an owner', () => {
    expect(code(() => assertMayGrant(user('owner'), 'owner'))).toBeNull();
    expect(code(() => assertMayGrant(user('admin'), 'admin'))).toBeNull();
    expect(code(() => assertMayGrant(user('admin'), 'owner'))).toBe('PERMISSION_DENIED');
    expect(code(() => assertMayGrant(user('member'), 'member'))).toBe('PERMISSION_DENIED');
    expect(code(() => assertMayGrant(key, 'viewer'))).toBe('PERMISSION_DENIED');
  });

  it('outranks is strict', () => {
    expect(outranks(user('owner'), 'admin')).toBe(true);
    expect(outranks(user('admin'), 'admin')).toBe(false);
    expect(outranks(user('admin'), 'member')).toBe(true);
    expect(outranks(key, 'member')).toBe(true);
    expect(outranks(key, 'admin')).toBe(false);
  });
});
