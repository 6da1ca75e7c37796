import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { systemContext } from '../../src/common/request-context.js';
import { PlatformAdminsRepository } from '../../src/modules/users/platform-admins.repository.js';
import { type Account, login, registerOwner } from './identity.js';
import type { TestApp } from './test-app.js';

/**
 * A new account owning a new organization, made a platform administrator by the same code
 * as `npm run admin -- grant` (on the app's own database), then logged in so that its
 * token carries the status.
 */
export async function registerPlatformAdmin(api: TestApp): Promise<Account> {
  const account = await registerOwner(api, 'platform');
  const admins = new PlatformAdminsRepository(api.app.get(DataSource));
  const granted = await admins.setStatus(systemContext('e2e'), account.email, true, 'admin-cli');
  expect(granted.kind).toBe('changed');
  return login(api, account.username);
}
