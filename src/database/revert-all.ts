import { validateEnvOrExit } from '../config/env.js';
import { revertAllMigrations } from './migrations-runner.js';

/** `npm run migration:revert:all`: every migration's `down`, newest first, against DATABASE_URL. */
const { DATABASE_URL } = validateEnvOrExit('migrate');
const reverted = await revertAllMigrations(DATABASE_URL);
process.stdout.write(`reverted ${reverted} migration(s)\n`);
