/**
 * The retention of invitations and administrators' password resets, run by the worker's
 * retention queue every hour. $1 = now. Nothing is kept past its use or its expiry: an
 * expired invitation can no longer be accepted and a used or expired reset token can no
 * longer be spent (an unknown token gets the same 401), so neither row has a reader left, and
 * issue 9 asks that a declined or expired invitation leave nothing. With the hourly schedule
 * a row outlives its expiry (or its use) by an hour at most; the tables hold one pending row
 * per account at most, so the scans need no index of their own.
 */
export const DELETE_EXPIRED_INVITATIONS = 'DELETE FROM invitations WHERE expires_at <= $1';

export const DELETE_SPENT_PASSWORD_RESETS =
  'DELETE FROM password_resets WHERE used_at IS NOT NULL OR expires_at <= $1';
