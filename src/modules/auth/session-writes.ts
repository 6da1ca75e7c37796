import type { EntityManager } from 'typeorm';

/**
 * Ends an account's sessions (refresh-token families) as a transaction step, for the changes
 * that must log the account out elsewhere: a password change (keeping the caller's own
 * session) and a completed password reset (every session). Returns how many sessions it ended.
 * Access tokens already issued live until they expire (ACCESS_TOKEN_TTL_SECONDS, 15 min by default).
 */
export async function endSessions(
  manager: EntityManager,
  userId: string,
  keepFamilyId: string | null,
): Promise<number> {
  const [rows] = await manager.query<[{ family_id: string }[], number]>(
    `UPDATE refresh_tokens SET revoked_at = now()
     WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR family_id <> $2::uuid)
     RETURNING family_id`,
    [userId, keepFamilyId],
  );
  return new Set(rows.map((row) => row.family_id)).size;
}
