/**
 * What an account's own fields may hold: checked by every request that sets them (register,
 * PATCH /auth/me, users, members) and stated by every response that shows them.
 */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,64}$/;
export const USERNAME_MESSAGE = 'username must be 3-64 letters, digits, _ . or -';
export const EMAIL_MAX_LENGTH = 254;
export const FULL_NAME_MAX_LENGTH = 200;
export const TELEGRAM_CHAT_ID_MAX_LENGTH = 64;
