import { describe, expect, it } from '@jest/globals';
import { PERMISSIONS, ROLE_PERMISSIONS, allows } from './permissions.js';

describe('role permissions (API.md table)', () => {
  it('viewer reads only', () => {
    expect([...ROLE_PERMISSIONS.viewer].every((p) => p.endsWith(':read'))).toBe(true);
    expect(allows(ROLE_PERMISSIONS.viewer, 'users:write')).toBe(false);
  });

  it('member writes but does not delete or manage keys', () => {
    expect(allows(ROLE_PERMISSIONS.member, 'projects:write')).toBe(true);
    expect(allows(ROLE_PERMISSIONS.member, 'users:delete')).toBe(false);
    expect(allows(ROLE_PERMISSIONS.member, 'keys:write')).toBe(false);
  });

  it('admin deletes and manages, but cannot delete the organization or bill', () => {
    expect(allows(ROLE_PERMISSIONS.admin, 'users:delete')).toBe(true);
    expect(allows(ROLE_PERMISSIONS.admin, 'members:write')).toBe(true);
    expect(allows(ROLE_PERMISSIONS.admin, 'org:delete')).toBe(false);
    expect(allows(ROLE_PERMISSIONS.admin, 'org:billing')).toBe(false);
  });

  it('owner may do everything, and the admin scope grants every permission', () => {
    for (const permission of PERMISSIONS) {
      expect(allows(ROLE_PERMISSIONS.owner, permission)).toBe(true);
      expect(allows(new Set(['admin']), permission)).toBe(true);
    }
  });
});
