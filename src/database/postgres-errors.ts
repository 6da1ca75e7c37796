import { QueryFailedError } from 'typeorm';

/** SQLSTATE 23505: the write collided with a unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === '23505'
  );
}
