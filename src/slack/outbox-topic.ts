import type { z } from 'zod';
import type { OutboxRow } from '../db/schema';
import type { OutboxMessage, OutboxTopicHandler } from './outbox';

/** A Slack call to queue: what `chat.postMessage` and friends take. */
export interface OutboxCall {
  method: string;
  args: Record<string, unknown>;
  /** When set, a second message with the same key is dropped. */
  dedupKey?: string;
}

/** How a domain hears back about its messages, with the payload it queued them with. */
export interface TypedTopicHandler<P> {
  sent?(payload: P, response: Record<string, unknown>, row: OutboxRow): Promise<void>;
  failed?(payload: P, error: string, row: OutboxRow): Promise<void>;
}

/**
 * One kind of outbox message with a typed payload: the domain that queues it builds
 * its messages and handles their outcome here, side by side, and the payload comes
 * back parsed instead of as the row's raw `ref`.
 */
export interface OutboxTopic<P> {
  name: string;
  message(payload: P, call: OutboxCall): OutboxMessage;
  handler(handlers: TypedTopicHandler<P>): [topic: string, handler: OutboxTopicHandler];
}

export function outboxTopic<S extends z.ZodType>(name: string, payload: S): OutboxTopic<z.infer<S>> {
  const read = (ref: string | null): z.infer<S> | undefined => {
    if (ref === null) return undefined;
    // Plain-string payloads are stored as they are, as rows queued before typed topics were.
    let decoded: unknown = ref;
    try {
      decoded = JSON.parse(ref);
    } catch {
      // Not JSON: the raw string is the payload.
    }
    const parsed = payload.safeParse(decoded);
    if (parsed.success) return parsed.data;
    const raw = payload.safeParse(ref);
    return raw.success ? raw.data : undefined;
  };
  return {
    name,
    message: (value, call) => ({ topic: name, ref: typeof value === 'string' ? value : JSON.stringify(value), ...call }),
    handler: (handlers) => [
      name,
      {
        sent: handlers.sent
          ? async (row, response) => {
              const value = read(row.ref);
              if (value !== undefined) await handlers.sent?.(value, response, row);
            }
          : undefined,
        failed: handlers.failed
          ? async (row, error) => {
              const value = read(row.ref);
              if (value !== undefined) await handlers.failed?.(value, error, row);
            }
          : undefined,
      },
    ],
  };
}
