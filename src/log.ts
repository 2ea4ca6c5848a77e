import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { pino, type Logger } from 'pino';
import type { LogLevel as TandemLogLevel } from './config';

export type { Logger };

/** Keys that may hold a credential anywhere in a log record; pino replaces their values. */
const redactedPaths = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'authorization',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
];

export function createLogger(level: TandemLogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { app: 'tandem' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

const boltToPino: Record<LogLevel, TandemLogLevel> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

/** Bolt and the Web API client log through this adapter, so their lines share our format. */
export function boltLogger(logger: Logger): BoltLogger {
  let child = logger.child({ component: 'slack' });
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (...messages: unknown[]) =>
    child[level](messages.map((message) => (typeof message === 'string' ? message : String(message))).join(' '));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: () => {
      // Levels are set once for the whole process from LOG_LEVEL.
    },
    getLevel: () => {
      const level = Object.entries(boltToPino).find(([, pinoLevel]) => pinoLevel === logger.level);
      return (level?.[0] as LogLevel | undefined) ?? LogLevel.INFO;
    },
    setName: (name: string) => {
      child = logger.child({ component: name });
    },
  };
}
