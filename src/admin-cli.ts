import 'reflect-metadata';
import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import { systemContext } from './common/request-context.js';
import { redactUrlCredentials } from './config/redact.js';
import { validateEnvOrExit } from './config/env.js';
import { dataSourceOptions } from './database/data-source.js';
import { PlatformAdminsRepository } from './modules/users/platform-admins.repository.js';

/**
 * `npm run admin -- grant <email> | revoke <email> | list`: the operator's command for the
 * platform-administrator status of existing accounts, run against DATABASE_URL. Each change
 * is audited (actor `system`, id `admin-cli`). A grant shows in the account's tokens from its
 * next login or refresh; a revoke holds from its next request (the api checks the account
 * whenever a token claims the status).
 * Exit codes: 0 done (or nothing to change), 1 no such account or a failure, 2 bad usage.
 */
const USAGE = `usage: npm run admin -- grant <email>     make the account a platform administrator
       npm run admin -- revoke <email>    take the status back
       npm run admin -- list              list platform administrators
(against DATABASE_URL; in a container: node dist/admin-cli.js grant <email>)`;

type Command = { name: 'list' } | { name: 'grant' | 'revoke'; email: string };

function exit(code: number, line: string): never {
  (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  process.exit(code);
}

function parse(args: string[]): Command | null {
  const [name, email, ...extra] = args;
  if (extra.length > 0) return null;
  if (name === 'list') return email === undefined ? { name } : null;
  if ((name === 'grant' || name === 'revoke') && email !== undefined) {
    return /^[^@\s]+@[^@\s]+$/.test(email) ? { name, email: email.toLowerCase() } : null;
  }
  return null;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown'; // no passwd entry (some containers)
  }
}

async function run(admins: PlatformAdminsRepository, command: Command): Promise<string> {
  if (command.name === 'list') {
    const users = await admins.list();
    if (users.length === 0) return 'no platform administrators';
    return users.map((user) => `${user.email}\t${user.username}\t${user.id}`).join('\n');
  }
  const { email } = command;
  const grant = command.name === 'grant';
  const ctx = systemContext(`gatehouse admin-cli (os user ${osUser()})`);
  const result = await admins.setStatus(ctx, email, grant, 'admin-cli');
  if (result.kind === 'unknown') exit(1, `admin: no account has the email ${email}`);
  if (result.kind === 'unchanged') {
    return `${email} ${grant ? 'is already' : 'is not'} a platform administrator; nothing changed`;
  }
  return grant
    ? `granted: ${email} is a platform administrator (from their next login or token refresh)`
    : `revoked: ${email} is no longer a platform administrator (from their next request)`;
}

async function main(): Promise<void> {
  const command = parse(process.argv.slice(2));
  if (command === null) exit(2, USAGE);

  const env = validateEnvOrExit('admin');
  const dataSource = new DataSource({
    ...dataSourceOptions({
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    }),
    logging: false,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    exit(1, `admin: cannot reach the database: ${redactUrlCredentials(String(error))}`);
  }
  try {
    const said = await run(new PlatformAdminsRepository(dataSource), command);
    await dataSource.destroy();
    exit(0, said);
  } catch (error) {
    exit(1, `admin: ${redactUrlCredentials(String(error))}`);
  }
}

await main();
