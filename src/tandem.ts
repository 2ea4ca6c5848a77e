import type { Server } from 'node:http';
import { createApiHandler } from './api/router';
import { TokenVerifier } from './api/tokens';
import { BackgroundWork } from './background';
import type { Catalog } from './catalog';
import { createChanges } from './changes/module';
import type { Config } from './config';
import { type DatabaseHandle, openDatabase } from './db/client';
import { DomainEvents } from './events';
import { createHome } from './home/module';
import { closeServer, createHttpServer, listen } from './http/server';
import { createIncidents, type SwarmSetupWorker } from './incidents/module';
import { pruneExpiredRecords } from './jobs/housekeeping';
import { Scheduler } from './jobs/scheduler';
import type { Logger } from './log';
import { createMetrics } from './metrics/module';
import type { DomainModule, ModuleContext } from './module';
import { createSlackApp } from './slack/app';
import type { ReadOnlyCommands } from './slack/deliveries';
import { OutboxWorker } from './slack/outbox';
import { createSprints } from './sprints/module';
import { type Clock, systemClock } from './time';

export interface TandemOptions {
  config: Config;
  catalog: Catalog;
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests); otherwise one is opened from the config and closed on stop. */
  database?: DatabaseHandle;
}

export interface Tandem {
  server: Server;
  port: number;
  database: DatabaseHandle;
  outbox: OutboxWorker;
  swarms: SwarmSetupWorker;
  background: BackgroundWork;
  scheduler: Scheduler;
  /** Resolves when listener work, background work and due outbox messages are done. */
  idle(): Promise<void>;
  /** Graceful stop: no new requests, in-flight work finished, database closed. */
  stop(): Promise<void>;
}

/** The composition root: database → Slack app → domain modules → HTTP server → workers. */
export async function startTandem(options: TandemOptions): Promise<Tandem> {
  const { config, catalog, logger } = options;
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(config.database));
  const ownsDatabase = options.database === undefined;
  try {
    if (config.migrateOnStart) await database.migrate();
    const { db } = database;
    const background = new BackgroundWork((error) => logger.error({ err: error }, 'background work failed'));
    // Filled from the domains, which are made with the Slack app's clients below; read per request.
    const readOnlyCommands: ReadOnlyCommands = {};
    const slack = await createSlackApp({ config: config.slack, logger, db, clock, background, readOnlyCommands });
    const outbox = new OutboxWorker({ db, client: slack.outboxClient, clock, logger });
    const shutdown = new AbortController();
    const context: ModuleContext = {
      ...{ db, database, clock, catalog, logger, background, outbox, events: new DomainEvents() },
      ...{ slack: slack.client, durableSlack: slack.outboxClient, shutdown: shutdown.signal, timeZone: config.timeZone, botUserId: slack.botUserId },
    };
    const incidents = createIncidents(context);
    // Loaded only when configured: Octokit is ~10 MB of memory that most installations never use.
    const github = config.github ? (await import('./github/module')).createGitHub(context, config.github) : undefined;
    const modules: DomainModule[] = [incidents, createChanges(context), createSprints(context), createMetrics(context), createHome(context), ...(github ? [github] : [])];
    for (const module of modules) {
      module.register?.(slack.app);
      Object.assign(readOnlyCommands, module.readOnlyCommands);
      for (const [topic, handler] of module.outboxHandlers ?? []) outbox.on(topic, handler);
    }
    // Keys kept only to recognise retries expire; sent outbox rows are kept a week for inspection.
    const housekeeping = { name: 'housekeeping', cron: '17 * * * *', timeZone: config.timeZone, run: () => pruneExpiredRecords(db, clock) };
    const scheduler = new Scheduler([housekeeping, ...modules.flatMap((module) => module.schedules ?? [])], logger);
    const routes = modules.flatMap((module) => module.routes ?? []);
    const api = createApiHandler({ routes, tokens: new TokenVerifier(db, clock), db, clock, logger, shutdown: shutdown.signal });
    const server = createHttpServer({ slack: slack.requestListener, api, github: github?.webhooks, ready: () => database.ping(), logger });

    for (const module of modules) await module.start?.();
    const port = await listen(server, config.port);
    await slack.start();
    outbox.start();
    scheduler.start();
    logger.info({ port, mode: config.slack.appToken ? 'socket' : 'http', database: database.kind, services: Object.keys(catalog.services).length }, 'tandem is serving');

    return {
      ...{ server, port, database, outbox, swarms: incidents.swarms, background, scheduler },
      async idle() {
        await scheduler.idle();
        await background.idle();
        for (const module of modules) await module.idle?.();
        await outbox.drain();
        await background.idle();
      },
      async stop() {
        // Long-polls answer now; set-ups in hand stop at their next step and hand their lease on.
        shutdown.abort();
        await closeServer(server);
        await slack.stop();
        await scheduler.stop();
        await background.idle();
        for (const module of [...modules].reverse()) await module.stop?.();
        await outbox.stop();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    if (ownsDatabase) await database.close().catch(() => {});
    throw error;
  }
}
