/** How long a password may be: the register DTO and ADMIN_PASSWORD are checked against this. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
