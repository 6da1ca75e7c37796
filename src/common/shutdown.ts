import type { INestApplicationContext, LoggerService } from '@nestjs/common';

const FORCE_EXIT_MS = 30_000;

/**
 * Graceful shutdown for both processes: on SIGTERM or SIGINT, close the app (the api stops
 * accepting and finishes in-flight requests; queue workers finish running jobs; pools
 * close), log it, and exit 0. A second signal, or a close that hangs, exits at once.
 */
export function closeOnSignals(
  app: INestApplicationContext,
  logger: LoggerService,
  name: string,
): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.log({ msg: `${name} stopping`, signal }, 'Shutdown');
    setTimeout(() => process.exit(1), FORCE_EXIT_MS).unref();
    app.close().then(
      () => {
        logger.log({ msg: `${name} stopped` }, 'Shutdown');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(
          { msg: `${name} did not close cleanly`, error: String(error) },
          undefined,
          'Shutdown',
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
