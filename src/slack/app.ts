import { type AllMiddlewareArgs, type AnyMiddlewareArgs, App, type AppOptions, type ReceiverEvent } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { RequestListener } from 'node:http';
import type { BackgroundWork } from '../background';
import type { SlackConfig } from '../config';
import type { Database } from '../db/client';
import { boltLogger, type Logger } from '../log';
import type { Clock } from '../time';
import { Acknowledgement, acknowledgementKey } from './ack';
import { claimDelivery, deliveryKey, type ReadOnlyCommands } from './deliveries';
import { answerFailures, answerWith, databaseUnavailableMessage } from './errors';
import { SlackRequestReceiver } from './receiver';

export interface SlackApp {
  app: App;
  /** The bot's Web API client, for calls whose answer is needed now; it waits out 429s. */
  client: WebClient;
  /** A client that rejects rate-limited calls at once, for the outbox worker to reschedule. */
  outboxClient: WebClient;
  botUserId: string;
  /** Handles POST /slack/events in HTTP mode; undefined in Socket Mode. */
  requestListener: RequestListener | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackAppOptions {
  config: SlackConfig;
  logger: Logger;
  db: Database;
  clock: Clock;
  background: BackgroundWork;
  /** The domains' read-only commands, which need no delivery claim; read when a request arrives. */
  readOnlyCommands: ReadOnlyCommands;
}

export class SlackStartupError extends Error {
  override name = 'SlackStartupError';
}

export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { config, logger } = options;
  const slackLogger = boltLogger(logger);
  const clientOptions: WebClientOptions = {
    slackApiUrl: config.apiUrl,
    logger: slackLogger,
    timeout: 10_000,
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
  };
  const client = new WebClient(config.botToken, clientOptions);
  const identity = await whoAmI(client);

  const shared = {
    token: config.botToken,
    botId: identity.botId,
    botUserId: identity.userId,
    logger: slackLogger,
    clientOptions,
    convoStore: false as const,
    tokenVerificationEnabled: false,
  };
  let requestListener: RequestListener | undefined;
  let app: App;
  if (config.appToken) {
    app = new AcknowledgingApp({ ...shared, appToken: config.appToken, socketMode: true }, options.background, logger);
  } else {
    const receiver = new SlackRequestReceiver({ signingSecret: config.signingSecret ?? '', clock: options.clock, logger });
    app = new AcknowledgingApp({ ...shared, receiver }, options.background, logger);
    requestListener = receiver.requestListener;
  }

  app.use(answerFailures(logger));
  app.use(dropRepeatedDeliveries(options, logger));
  // Listener failures are answered by answerFailures; what reaches Bolt's handler failed before any middleware ran.
  app.error(async (error) => {
    logger.error({ err: error }, 'slack request failed');
  });

  return {
    app,
    client,
    outboxClient: new WebClient(config.botToken, {
      ...clientOptions,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    }),
    botUserId: identity.userId,
    requestListener,
    start: async () => {
      if (config.appToken) await app.start();
    },
    stop: async () => {
      if (config.appToken) await app.stop();
    },
  };
}

async function whoAmI(client: WebClient): Promise<{ userId: string; botId: string }> {
  try {
    const auth = await client.auth.test();
    if (!auth.user_id || !auth.bot_id) throw new Error('auth.test did not name a bot user');
    return { userId: auth.user_id, botId: auth.bot_id };
  } catch (error) {
    const slackError = (error as { data?: { error?: string } }).data?.error;
    throw new SlackStartupError(
      slackError
        ? `SLACK_BOT_TOKEN was rejected by Slack (${slackError})`
        : `Slack could not be reached at SLACK_API_URL to check SLACK_BOT_TOKEN (${(error as Error).message})`,
    );
  }
}

/**
 * Bolt's App, with each delivery's ack tracked (answerFailures reads it from the
 * context) and every delivery acknowledged in the end: one that no listener answers
 * (an unknown button, a payload Bolt cannot route) gets an empty 200 at once instead
 * of Slack's error after 3 s. Listener work continues after the ack; shutdown waits for it.
 */
class AcknowledgingApp extends App {
  constructor(
    options: AppOptions,
    private readonly background: BackgroundWork,
    private readonly log: Logger,
  ) {
    super(options);
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    const acknowledgement = new Acknowledgement(event.ack);
    const customProperties = { ...event.customProperties, [acknowledgementKey]: acknowledgement };
    try {
      await this.background.track(super.processEvent({ ...event, ack: acknowledgement.ack, customProperties }));
    } catch (error) {
      // Bolt threw before any listener ran (a body it could not route): nobody to tell.
      this.log.warn({ err: error }, 'slack request could not be processed');
    }
    if (!acknowledgement.done) await acknowledgement.ack().catch((error) => this.log.warn({ err: error }, 'could not acknowledge slack request'));
  }
}

/**
 * A retried command, click, submission or event is acknowledged and dropped, so
 * Slack's retries and proxies never run an action twice. The key is claimed in the
 * database, so this holds across instances.
 */
function dropRepeatedDeliveries({ db, clock, readOnlyCommands }: Pick<SlackAppOptions, 'db' | 'clock' | 'readOnlyCommands'>, logger: Logger) {
  return async (args: AnyMiddlewareArgs & AllMiddlewareArgs) => {
    const key = deliveryKey(args.body, readOnlyCommands);
    if (!key) return args.next();
    const ack = 'ack' in args ? (args.ack as (response?: unknown) => Promise<void>) : undefined;
    let first: boolean;
    try {
      first = await claimDelivery(db, clock, key);
    } catch (error) {
      logger.error({ err: error, delivery: key }, 'could not record slack delivery');
      await answerWith(args, databaseUnavailableMessage, logger);
      return;
    }
    if (!first) {
      logger.info({ delivery: key }, 'dropped repeated slack delivery');
      await ack?.();
      return;
    }
    await args.next();
  };
}
