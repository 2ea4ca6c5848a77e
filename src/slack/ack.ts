import type { AckFn } from '@slack/bolt';
import { withinDeadline } from '../db/unavailable';

/**
 * Whether Slack has had its answer to one delivery. Until the ack, a failure can be
 * answered in it (field errors on a form, an ephemeral command reply); after it, the
 * person is told some other way. Bolt's own receivers know this only internally, so
 * the app wraps every delivery's ack in one of these (see app.ts).
 */
export class Acknowledgement {
  private sent = false;

  constructor(private readonly send: AckFn<unknown>) {}

  get done(): boolean {
    return this.sent;
  }

  /** Bolt's ack; a second call is refused by the receiver, as before. */
  readonly ack = async (response?: unknown): Promise<void> => {
    this.sent = true;
    await this.send(response);
  };
}

/** The key under which the acknowledgement travels in Bolt's listener context. */
export const acknowledgementKey = 'acknowledgement';

export function acknowledgementOf(context: Record<string, unknown>): Acknowledgement | undefined {
  const value = context[acknowledgementKey];
  return value instanceof Acknowledgement ? value : undefined;
}

/**
 * Slack waits 3 s for an ack. A read answered in it (`/change list`) gives up after
 * this long, and the person is told the database did not answer, while Slack still listens.
 */
const readBeforeAckMs = 1_500;

export function readBeforeAck<T>(work: Promise<T>, what: string): Promise<T> {
  return withinDeadline(work, readBeforeAckMs, what);
}
