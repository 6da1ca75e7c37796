import type { UserResponse } from './users.dto.js';
import type { Member } from './users.repository.js';

/** A user as the API returns it (and as its webhook events carry it): never a password hash. */
export function toUserResponse({ user, role }: Member): UserResponse {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    telegram_chat_id: user.telegramChatId,
    role,
    is_platform_admin: user.isPlatformAdmin,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
