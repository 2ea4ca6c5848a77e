import { z } from 'zod';
import type { IncidentRow } from '../db/schema';
import { isDatabaseUnavailable } from '../db/unavailable';
import { withoutNul } from '../fields';
import type { Message } from '../slack/blocks';
import { type ActionArgs, readClick } from '../slack/listener-args';
import { ephemeral } from '../slack/replies';
import type { ActionHandlers, EventHandlers } from '../slack/routing';
import * as conversation from './conversation-store';
import type { IncidentDeps } from './deps';
import { findIncidentByChannel, findIncidentById, listTimeline } from './store';
import { pinMark, reactionMark, reactionName, tsToDate } from './timeline';
import { timelineActionIds, timelineReply } from './timeline-blocks';

/**
 * The incident channel is the record: its messages are stored as the Events API
 * delivers them (Tandem never reads conversations.history for this), and a message
 * that is pinned or gets the timeline reaction joins the incident's timeline.
 * Bolt acknowledges events before any listener runs, so the storing happens after the ack.
 */
export function conversationEvents(deps: IncidentDeps): EventHandlers {
  const batches = new MessageBatches(deps);
  // A failure is logged, never told to whoever posted or reacted: they did nothing wrong, and Slack will not redeliver an acked event.
  return {
    message: (event) => recordMessageEvent(deps, event, batches).catch((error) => logFailure(deps, error, 'could not store a channel message')),
    reaction_added: (event) => onReaction(deps, event, 'added').catch((error) => logFailure(deps, error, 'could not record a reaction')),
    reaction_removed: (event) => onReaction(deps, event, 'removed').catch((error) => logFailure(deps, error, 'could not record a reaction')),
    pin_added: (event) => onPin(deps, event, 'added').catch((error) => logFailure(deps, error, 'could not record a pin')),
    pin_removed: (event) => onPin(deps, event, 'removed').catch((error) => logFailure(deps, error, 'could not record a pin')),
  };
}

/** Older and Newer on a timeline page. */
export function timelineActions(deps: IncidentDeps): ActionHandlers {
  return Object.fromEntries(Object.values(timelineActionIds).map((actionId) => [actionId, (args: ActionArgs) => onTimelinePage(deps, args)]));
}

const slackText = z
  .string()
  .optional()
  .transform((text) => withoutNul(text ?? ''));

const postedMessage = z.looseObject({
  subtype: z.string().optional(),
  channel: z.string(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: slackText,
  ts: z.string(),
  thread_ts: z.string().optional(),
});

const changedMessage = z.looseObject({
  subtype: z.literal('message_changed'),
  channel: z.string(),
  ts: z.string(),
  message: z.looseObject({
    user: z.string().optional(),
    text: slackText,
    ts: z.string(),
    thread_ts: z.string().optional(),
    edited: z.looseObject({ ts: z.string() }).optional(),
  }),
});

const deletedMessage = z.looseObject({ subtype: z.literal('message_deleted'), channel: z.string(), deleted_ts: z.string(), ts: z.string() });

/** Subtypes that are someone's message in the channel; the rest (joins, topic changes, …) are not the conversation. */
const conversationSubtypes = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message', 'bot_message']);

const logFailure = (deps: IncidentDeps, error: unknown, message: string) => deps.logger.error({ err: error }, message);

/**
 * Slack will not send an acknowledged event again, so a write that found no free
 * connection in time (a burst, a slow database) is tried again, three more times
 * over about two seconds, before it is given up. Every write here is idempotent.
 */
async function whileDatabaseBusy<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 3 || !isDatabaseUnavailable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}

/**
 * New messages are written in batches: whatever arrived while the previous batch was
 * being written goes in the next statement (at most `maxBatch` rows), so a busy
 * channel, or a burst of Slack's deliveries, costs one round trip per batch instead
 * of one per message, and never more than one connection.
 */
class MessageBatches {
  private pending: Array<{ message: conversation.DeliveredMessage; done: (error?: unknown) => void }> = [];
  private writing = false;
  private static readonly maxBatch = 500;

  constructor(private readonly deps: IncidentDeps) {}

  store(message: conversation.DeliveredMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, done: (error) => (error ? reject(error) : resolve()) });
      if (!this.writing) void this.write();
    });
  }

  private async write(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MessageBatches.maxBatch);
      try {
        await whileDatabaseBusy(() =>
          conversation.storeDeliveredMessages(
            this.deps.db,
            batch.map((item) => item.message),
          ),
        );
        for (const item of batch) item.done();
      } catch (error) {
        for (const item of batch) item.done(error);
      }
    }
    this.writing = false;
  }
}

/** A message event: new messages go through the batches; an edit or deletion is one statement of its own. */
async function recordMessageEvent(deps: IncidentDeps, event: unknown, batches: MessageBatches): Promise<void> {
  const subtype = (event as { subtype?: unknown }).subtype;
  if (subtype === 'message_changed') {
    const parsed = changedMessage.safeParse(event);
    if (!parsed.success) return;
    const { channel, message } = parsed.data;
    await conversation.storeEditedMessage(deps.db, {
      channelId: channel,
      ts: message.ts,
      user: message.user ?? null,
      text: message.text,
      threadTs: message.thread_ts ?? null,
      postedAt: tsToDate(message.ts),
      editedAt: tsToDate(message.edited?.ts ?? parsed.data.ts),
    });
    return;
  }
  if (subtype === 'message_deleted') {
    const parsed = deletedMessage.safeParse(event);
    if (parsed.success) await conversation.markMessageDeleted(deps.db, parsed.data.channel, parsed.data.deleted_ts, tsToDate(parsed.data.ts));
    return;
  }
  if (!conversationSubtypes.has(subtype as string | undefined)) return;
  const parsed = postedMessage.safeParse(event);
  if (!parsed.success) return;
  const message = parsed.data;
  await batches.store({
    channelId: message.channel,
    ts: message.ts,
    user: message.user ?? message.bot_id ?? null,
    text: message.text,
    threadTs: message.thread_ts ?? null,
    postedAt: tsToDate(message.ts),
  });
}

const reactionEvent = z.looseObject({
  user: z.string(),
  reaction: z.string(),
  item_user: z.string().optional(),
  item: z.looseObject({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }),
});

const pinEvent = z.looseObject({
  user: z.string(),
  channel_id: z.string().optional(),
  item: z.looseObject({
    type: z.string(),
    channel: z.string().optional(),
    message: z.looseObject({ ts: z.string(), user: z.string().optional(), text: slackText, permalink: z.string().optional() }).optional(),
  }),
});

async function onReaction(deps: IncidentDeps, event: unknown, change: 'added' | 'removed'): Promise<void> {
  const parsed = reactionEvent.safeParse(event);
  if (!parsed.success) return;
  const { user, reaction, item } = parsed.data;
  if (item.type !== 'message' || !item.channel || !item.ts) return;
  if (reactionName(reaction) !== deps.catalog.incidents.timeline_reaction) return;
  const target = { channelId: item.channel, ts: item.ts, mark: reactionMark(user), by: user, author: parsed.data.item_user ?? null };
  await whileDatabaseBusy(() => (change === 'added' ? markMessage(deps, target) : unmarkMessage(deps, target)));
}

async function onPin(deps: IncidentDeps, event: unknown, change: 'added' | 'removed'): Promise<void> {
  const parsed = pinEvent.safeParse(event);
  if (!parsed.success) return;
  const { user, item } = parsed.data;
  const channelId = item.channel ?? parsed.data.channel_id;
  if (item.type !== 'message' || !channelId || !item.message) return;
  const { message } = item;
  const target = {
    channelId,
    ts: message.ts,
    mark: pinMark,
    by: user,
    author: message.user ?? null,
    // Slack's pin event carries the message, so even one Tandem never saw keeps its text.
    text: message.text || null,
    permalink: message.permalink,
  };
  await whileDatabaseBusy(() => (change === 'added' ? markMessage(deps, target) : unmarkMessage(deps, target)));
}

interface MarkTarget {
  channelId: string;
  ts: string;
  mark: string;
  /** Who pinned or reacted. */
  by: string;
  /** The message's author, as the event names them. */
  author: string | null;
  text?: string | null;
  permalink?: string;
}

export const tandemsOwnMessage =
  'That is one of Tandem’s own messages, and what it says is on the incident’s timeline already, so the reaction adds nothing.';
export const unseenMessage =
  'Tandem never received that message (it was posted before this channel became an incident channel, or its delivery was missed), so the timeline links to it without its text.';

/** Puts a message on its incident's timeline; a repeat mark (or a second person's) adds nothing. */
export async function markMessage(deps: IncidentDeps, target: MarkTarget): Promise<void> {
  const incident = await findIncidentByChannel(deps.db, target.channelId);
  if (!incident) return;
  if (target.author === deps.botUserId || incident.summaryTs === target.ts) {
    if (target.mark !== pinMark) await tell(deps, target, tandemsOwnMessage);
    return;
  }
  const { message, added } = await deps.db.transaction(async (tx) => {
    const message = await conversation.ensureMessage(tx, {
      channelId: target.channelId,
      ts: target.ts,
      incidentId: incident.id,
      user: target.author,
      text: target.text ?? null,
      postedAt: tsToDate(target.ts),
    });
    const added = await conversation.addMark(tx, { channelId: target.channelId, ts: target.ts, mark: target.mark, markedBy: target.by, markedAt: deps.clock.now() });
    return { message, added };
  });
  if (!added) return;
  if (!message.permalink) await rememberPermalink(deps, target);
  if (message.text === null && message.deletedAt === null) await tell(deps, target, unseenMessage);
}

export async function unmarkMessage(deps: IncidentDeps, target: MarkTarget): Promise<void> {
  await conversation.removeMark(deps.db, target.channelId, target.ts, target.mark);
}

async function rememberPermalink(deps: IncidentDeps, target: MarkTarget): Promise<void> {
  let permalink = target.permalink;
  if (!permalink) {
    try {
      const answer = await deps.slack.chat.getPermalink({ channel: target.channelId, message_ts: target.ts });
      permalink = answer.permalink;
    } catch (error) {
      // The entry stands without its link; the message's time and author still place it.
      deps.logger.warn({ err: error, channel: target.channelId, ts: target.ts }, 'could not get a message permalink');
    }
  }
  if (permalink) await conversation.setPermalink(deps.db, target.channelId, target.ts, permalink);
}

async function tell(deps: IncidentDeps, target: MarkTarget, text: string): Promise<void> {
  try {
    await deps.slack.chat.postEphemeral({ channel: target.channelId, user: target.by, text });
  } catch (error) {
    deps.logger.warn({ err: error, channel: target.channelId }, 'could not tell the person about their timeline mark');
  }
}

/** A page of the incident's timeline, for the person who asked. */
export async function timelineOf(deps: IncidentDeps, incident: IncidentRow, page: number): Promise<Message> {
  return timelineReply(incident, await listTimeline(deps.db, incident.id), page);
}

const pageButton = z
  .string()
  .regex(/^[0-9a-f-]{36}:[1-9][0-9]{0,5}$/)
  .transform((value) => ({ incidentId: value.slice(0, 36), page: Number(value.slice(37)) }));

const clickChannel = z.looseObject({ channel: z.looseObject({ id: z.string() }).optional() });

/** Older/Newer on a timeline page; the timeline is shown only in its incident's channel. */
async function onTimelinePage(deps: IncidentDeps, { ack, body, respond }: ActionArgs): Promise<void> {
  await ack();
  const { value } = readClick(body, pageButton);
  const incident = await findIncidentById(deps.db, value.incidentId);
  const channel = clickChannel.safeParse(body).data?.channel?.id;
  if (!incident || !incident.channelId || channel !== incident.channelId) {
    await respond(ephemeral('That timeline is shown only in its incident’s channel.'));
    return;
  }
  await respond({ response_type: 'ephemeral', replace_original: true, ...(await timelineOf(deps, incident, value.page)) });
}
