import { type App, type Receiver, ReceiverMultipleAckError } from '@slack/bolt';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log';
import type { Clock } from '../time';
import { isSslCheck, readSlackBody } from './envelope';
import { signatureProblem } from './signature';

export interface SlackReceiverOptions {
  signingSecret: string;
  clock: Clock;
  logger: Logger;
  /** Slack's own payloads stay far below this; larger bodies get 413 without being read further. */
  bodyLimitBytes?: number;
}

class BodyTooLarge extends Error {}

/**
 * Bolt's receiver for POST /slack/events, in place of its HTTPReceiver: every request
 * is verified against the injected clock (signed more than five minutes away, either
 * way, is 401), its envelope is checked before Bolt reads it (400 when malformed), and
 * it is answered in every case, so nothing a request contains can throw out of here.
 */
export class SlackRequestReceiver implements Receiver {
  private app: App | undefined;
  private readonly bodyLimit: number;

  constructor(private readonly options: SlackReceiverOptions) {
    this.bodyLimit = options.bodyLimitBytes ?? 4 * 1024 * 1024;
  }

  init(app: App): void {
    this.app = app;
  }

  // The HTTP server is Tandem's own (src/http/server.ts); there is nothing to start or stop here.
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  readonly requestListener = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    this.handle(req, res).catch((error) => {
      this.options.logger.error({ err: error }, 'slack request failed outside any listener');
      if (!res.headersSent) answer(res, 200);
    });

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger, clock, signingSecret } = this.options;
    let raw: string;
    try {
      raw = await readBody(req, this.bodyLimit);
    } catch (error) {
      if (error instanceof BodyTooLarge) return answer(res, 413, refusal('too_large', 'The request body is larger than Slack sends.'));
      throw error;
    }
    const contentType = req.headers['content-type'];
    if (isSslCheck(contentType, raw)) return answer(res, 200);

    const problem = signatureProblem({
      signingSecret,
      body: raw,
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      now: clock.now(),
    });
    if (problem) {
      logger.warn({ reason: problem }, 'refused a slack request');
      return answer(res, 401, refusal('invalid_signature', 'The request is not signed by Slack, or not within five minutes of now.'));
    }

    const read = readSlackBody(contentType, raw);
    if (read.kind === 'malformed') {
      logger.warn({ reason: read.reason }, 'refused a malformed slack request');
      return answer(res, 400, refusal('malformed_request', `The request is not one Slack sends: ${read.reason}.`));
    }
    if (read.kind === 'ignored') {
      logger.info({ reason: read.reason }, 'ignored a slack request');
      return answer(res, 200);
    }
    const { body } = read;
    if (body.type === 'url_verification') return answer(res, 200, { challenge: body.challenge });

    const retryNum = Number.parseInt(header(req, 'x-slack-retry-num') ?? '', 10);
    await this.app?.processEvent({
      body,
      retryNum: Number.isNaN(retryNum) ? undefined : retryNum,
      retryReason: header(req, 'x-slack-retry-reason'),
      ack: async (response?: unknown) => {
        if (res.headersSent) throw new ReceiverMultipleAckError();
        answer(res, 200, response);
      },
    });
  }
}

const refusal = (code: string, message: string) => ({ error: { code, message } });

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Answers as Bolt's receivers do: nothing, plain text, or JSON. */
function answer(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined || body === '') {
    res.writeHead(status);
    res.end();
  } else if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // A client that hangs up mid-body leaves nothing to answer.
    req.on('close', () => {
      if (!req.complete) reject(new Error('the request was aborted before its body arrived'));
    });
  });
}
