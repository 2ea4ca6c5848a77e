import type { Server } from 'node:http';
import { createApiHandler } from './api/router';
import { TokenVerifier } from './api/tokens';
import { BackgroundWork } from './background';
import type { Catalog } from './catalog';
import type { Config } from './config';
import { type DatabaseHandle, openDatabase } from './db/client';
import { closeServer, createHttpServer, listen } from './http/server';
import { changeRoutes } from './changes/api';
import { DecisionFeed } from './changes/decisions';
import { type ChangeDeps, changeTopics, expireStaleChanges, rememberApprovalMessage, remindApprovers } from './changes/service';
import * as changesSlack from './changes/slack';
import { DomainEvents } from './events';
import type { HomeDeps } from './home/slack';
import * as homeSlack from './home/slack';
import { incidentRoutes } from './incidents/api';
import { metricsRoutes } from './metrics/api';
import { attachTrendChart, postImprovementReports, type ReportDeps, reportTopic } from './metrics/report';
import { type IncidentDeps, noticeTopic, recordUndeliveredNotice } from './incidents/service';
import * as incidentsSlack from './incidents/slack';
import { SwarmSetupWorker } from './incidents/swarm';
import type { Logger } from './log';
import { pruneExpiredRecords } from './jobs/housekeeping';
import { Scheduler } from './jobs/scheduler';
import { createSlackApp } from './slack/app';
import { OutboxWorker } from './slack/outbox';
import { sprintRoutes } from './sprints/api';
import { postScheduledDigests, remindAboutUnlinkedRequests } from './sprints/scheduled';
import { digestTopic, handleUndeliverableDigest, recordDigestPosted, type SprintDeps } from './sprints/service';
import * as sprintsSlack from './sprints/slack';
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

/** The composition root: database → Slack app → domains → HTTP server → workers. */
export async function startTandem(options: TandemOptions): Promise<Tandem> {
  const { config, catalog, logger } = options;
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(config.database));
  const ownsDatabase = options.database === undefined;
  try {
    if (config.migrateOnStart) await database.migrate();
    const { db } = database;
    const background = new BackgroundWork((error) => logger.error({ err: error }, 'background work failed'));
    const slack = await createSlackApp({ config: config.slack, logger, db, clock, background });
    const outbox = new OutboxWorker({ db, client: slack.outboxClient, clock, logger });

    const events = new DomainEvents();
    const shutdown = new AbortController();
    const incidents: IncidentDeps = {
      db,
      events,
      clock,
      catalog,
      logger,
      background,
      outbox,
      slack: slack.client,
      durableSlack: slack.outboxClient,
      shutdown: shutdown.signal,
      timeZone: config.timeZone,
      botUserId: slack.botUserId,
    };
    const swarms = new SwarmSetupWorker(incidents);
    const decisions = new DecisionFeed(database);
    await decisions.start();
    const changes: ChangeDeps = { db, events, clock, catalog, logger, background, outbox, slack: slack.client, timeZone: config.timeZone, decisions };
    const home: HomeDeps = { db, clock, catalog, timeZone: config.timeZone, slack: slack.client, logger, background, events };
    const reports: ReportDeps = { db, clock, catalog, timeZone: config.timeZone, slack: slack.client, logger, outbox };

    incidentsSlack.register(slack.app, incidents);
    changesSlack.register(slack.app, changes);
    homeSlack.register(slack.app, home);
    outbox.on(noticeTopic, {
      failed: async (row, error) => {
        if (row.ref && row.channel) await recordUndeliveredNotice(incidents, row.ref, row.channel, error);
      },
    });
    outbox.on(reportTopic, {
      sent: async (row, response) => {
        if (typeof response.channel === 'string' && typeof response.ts === 'string') {
          await attachTrendChart(reports, row.ref, response.channel, response.ts);
        }
      },
    });
    outbox.on(changeTopics.approvalRequest, {
      sent: async (row, response) => {
        if (row.ref && typeof response.channel === 'string' && typeof response.ts === 'string') {
          await rememberApprovalMessage(changes, row.ref, response.channel, response.ts);
        }
      },
    });

    const sprints: SprintDeps = { db, clock, catalog, logger, outbox, background, slack: slack.client, timeZone: config.timeZone };
    sprintsSlack.register(slack.app, sprints);
    outbox.on(digestTopic, {
      sent: (row, response) => recordDigestPosted(sprints, row, response),
      failed: (row, error) => handleUndeliverableDigest(sprints, row, error),
    });

    const server = createHttpServer({
      slack: slack.requestListener,
      api: createApiHandler({
        routes: [...incidentRoutes(incidents), ...changeRoutes(changes), ...sprintRoutes(sprints), ...metricsRoutes(home)],
        tokens: new TokenVerifier(db, clock),
        db,
        clock,
        logger,
        shutdown: shutdown.signal,
      }),
      ready: () => database.ping(),
      logger,
    });
    const scheduler = new Scheduler(
      [
        // Keys kept only to recognise retries expire; sent outbox rows are kept a week for inspection.
        { name: 'housekeeping', cron: '17 * * * *', timeZone: config.timeZone, run: () => pruneExpiredRecords(db, clock) },
        // Approvers of long-pending changes are nudged once per their service's interval.
        { name: 'change-reminders', cron: '*/5 * * * *', timeZone: config.timeZone, run: async () => void (await remindApprovers(changes)) },
        // Undecided changes are cancelled after their service's expiry.
        { name: 'change-expiry', cron: '7,37 * * * *', timeZone: config.timeZone, run: async () => void (await expireStaleChanges(changes)) },
        // The continual-improvement report's own schedule is in the catalog; each period is posted once.
        { name: 'improvement-report', cron: '*/10 * * * *', timeZone: config.timeZone, run: () => postImprovementReports(reports), runAtStart: true },
        // Each subscription has its own schedule; the tick posts those whose period has come and is unclaimed.
        { name: 'sprint-digests', cron: '* * * * *', timeZone: config.timeZone, run: () => postScheduledDigests(sprints), runAtStart: true },
        // Owners hear once a day about customer requests that no feature answers yet.
        { name: 'customer-request-reminders', cron: '*/5 * * * *', timeZone: config.timeZone, run: () => remindAboutUnlinkedRequests(sprints), runAtStart: true },
      ],
      logger,
    );

    const port = await listen(server, config.port);
    await slack.start();
    outbox.start();
    swarms.start();
    scheduler.start();
    logger.info(
      { port, mode: config.slack.appToken ? 'socket' : 'http', database: database.kind, services: Object.keys(catalog.services).length },
      'tandem is serving',
    );

    return {
      server,
      port,
      database,
      outbox,
      swarms,
      background,
      scheduler,
      async idle() {
        await scheduler.idle();
        await background.idle();
        await swarms.drain();
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
        await swarms.stop();
        await outbox.stop();
        await decisions.stop();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    if (ownsDatabase) await database.close().catch(() => {});
    throw error;
  }
}
