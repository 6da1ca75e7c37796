import { QueryFailedError } from 'typeorm';

/** SQLSTATE 23505: the write collided with a unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === '23505'
  );
}

/** Runs `work`; a unique violation becomes the module's own 409 (`conflict()`). */
export async function withUniqueConflict<T>(
  work: () => Promise<T>,
  conflict: () => Error,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}
