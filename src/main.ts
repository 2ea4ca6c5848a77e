import { CatalogError, loadCatalog } from './catalog';
import { ConfigError, loadConfig } from './config';
import { DataDirInUseError } from './db/data-dir-lock';
import { createLogger } from './log';
import { SlackStartupError } from './slack/app';
import { startTandem } from './tandem';

/** How long SIGTERM may take before the process exits regardless; the contract allows 10 s. */
const shutdownDeadlineMs = 9_000;

/** Start-up failures a person can fix: printed as one line, without a stack trace. */
const explainedFailures = [ConfigError, CatalogError, SlackStartupError, DataDirInUseError];

async function main(): Promise<void> {
  const config = loadConfig();
  const catalog = loadCatalog(config.catalogPath);
  const logger = createLogger(config.logLevel);
  const tandem = await startTandem({ config, catalog, logger });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight work');
    setTimeout(() => {
      logger.warn('in-flight work did not finish in time; exiting anyway');
      process.exit(0);
    }, shutdownDeadlineMs).unref();
    tandem
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (explainedFailures.some((kind) => error instanceof kind)) {
    process.stderr.write(`tandem: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(`tandem: could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
