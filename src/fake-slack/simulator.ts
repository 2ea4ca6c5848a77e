import { createHmac } from 'node:crypto';
import { type Clock, systemClock } from '../time';
import type { FakeEphemeral, FakeMessage, ResponseTarget } from './types';
import { messageJson } from './wire';
import type { FakeSlack } from './workspace';

type Json = Record<string, unknown>;

export interface Delivery {
  status: number;
  /** The app's HTTP answer, parsed as JSON when it is JSON. */
  body: unknown;
}

/** How an event is delivered: its id (a redelivery keeps it) and how many times it is sent. */
export interface EventOptions {
  eventId?: string;
  deliveries?: number;
}

export interface SubmitResult extends Delivery {
  /** Field errors the app answered with; the modal stays open. */
  errors?: Record<string, string>;
}

/** Something a person could not have done in Slack: clicking a button that is not there, submitting a closed modal. */
export class InvalidInteraction extends Error {
  override name = 'InvalidInteraction';
}

/** A value for a modal input: text, a selected option's value, a user ID, an ISO date-time, or several checkbox values. */
export type InputValue = string | string[] | undefined;

/**
 * What Slack sends when people use the workspace: signed slash commands, button
 * clicks, modal submissions and events, posted to the app's request URL exactly as
 * Slack posts them. Answers the app gives in the HTTP response are applied to the
 * workspace the way Slack applies them.
 */
export class SlackSimulator {
  constructor(
    private readonly slack: FakeSlack,
    /** `clock` signs requests; it must be the app's, which refuses signatures five minutes away from its now. */
    private readonly target: { requestUrl: string; signingSecret: string; clock?: Clock },
  ) {}

  async command(user: string, channel: string, command: string, text = ''): Promise<Delivery> {
    const channelRecord = this.slack.channels.get(channel);
    const fields = {
      token: 'deprecated-verification-token',
      team_id: this.slack.teamId,
      team_domain: 'sandbox',
      channel_id: channel,
      channel_name: channelRecord?.name ?? 'directmessage',
      user_id: user,
      user_name: this.slack.users.get(user)?.name ?? user,
      command,
      text,
      api_app_id: this.slack.appId,
      is_enterprise_install: 'false',
      response_url: this.slack.responseUrlFor({ channel, user }),
      trigger_id: this.slack.issueTrigger(user),
    };
    const delivery = await this.send(new URLSearchParams(fields).toString());
    this.applyMessageAnswer(delivery.body, { channel, user });
    return delivery;
  }

  /** Clicks the element with `actionId` in a message, an ephemeral message, an open view or a person's Home tab. */
  async click(
    user: string,
    source: { message: FakeMessage } | { ephemeral: FakeEphemeral } | { viewId: string } | { homeOf: string },
    actionId: string,
    options: { deliveries?: number } = {},
  ): Promise<Delivery> {
    const clickedView = 'message' in source || 'ephemeral' in source ? undefined : this.viewClicked(source);
    const blocks =
      'message' in source ? source.message.blocks : 'ephemeral' in source ? source.ephemeral.blocks : (clickedView?.view.blocks as Json[] | undefined);
    const found = findElement(blocks ?? [], actionId);
    if (!found) throw new InvalidInteraction(`no element with action_id ${actionId} to click`);
    const action = {
      action_id: actionId,
      block_id: found.blockId,
      text: found.element.text,
      value: found.element.value,
      type: found.element.type,
      action_ts: `${Date.now() / 1000}`,
    };
    const base = {
      type: 'block_actions',
      user: { id: user, username: this.slack.users.get(user)?.name ?? user, name: this.slack.users.get(user)?.name ?? user, team_id: this.slack.teamId },
      api_app_id: this.slack.appId,
      token: 'deprecated-verification-token',
      trigger_id: this.slack.issueTrigger(user),
      team: { id: this.slack.teamId, domain: 'sandbox' },
      enterprise: null,
      is_enterprise_install: false,
      state: { values: {} },
      actions: [action],
    };
    let payload: Json;
    if ('message' in source || 'ephemeral' in source) {
      const message = 'message' in source ? source.message : source.ephemeral;
      const isEphemeral = 'ephemeral' in source;
      const targetInfo: ResponseTarget = { channel: message.channel, user, sourceTs: message.ts, sourceIsEphemeral: isEphemeral };
      payload = {
        ...base,
        container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: isEphemeral },
        channel: { id: message.channel, name: this.slack.channels.get(message.channel)?.name ?? '' },
        ...(isEphemeral ? {} : { message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks, user: message.user } }),
        response_url: this.slack.responseUrlFor(targetInfo),
      };
    } else {
      payload = { ...base, container: { type: 'view', view_id: clickedView?.id }, view: { ...clickedView?.view, id: clickedView?.id, hash: clickedView?.hash } };
    }
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const first = await this.send(body);
    // Slack, or a proxy, delivering the same click again.
    for (let retry = 1; retry < (options.deliveries ?? 1); retry += 1) {
      await this.send(body, { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_timeout' });
    }
    return first;
  }

  /** A modal by its id, or a person's Home tab, which has no id in the workspace (Slack gives each user's Home one view id). */
  private viewClicked(source: { viewId: string } | { homeOf: string }): { id: string; view: Json; hash?: string } | undefined {
    if ('viewId' in source) {
      const open = this.slack.views.get(source.viewId);
      return open && { id: open.id, view: open.view, hash: open.hash };
    }
    const home = this.slack.homes.get(source.homeOf);
    return home && { id: `VHOME${source.homeOf}`, view: home };
  }

  /** Uses a message shortcut on `message` (its ⋮ menu → the app's shortcut), as Slack sends it. */
  async shortcut(user: string, message: FakeMessage, callbackId: string): Promise<Delivery> {
    const name = this.slack.users.get(user)?.name ?? user;
    const payload = {
      type: 'message_action',
      callback_id: callbackId,
      trigger_id: this.slack.issueTrigger(user),
      message_ts: message.ts,
      response_url: this.slack.responseUrlFor({ channel: message.channel, user }),
      message: { type: 'message', ts: message.ts, text: message.text, user: message.user, ...(message.blocks ? { blocks: message.blocks } : {}) },
      user: { id: user, name, username: name, team_id: this.slack.teamId },
      channel: { id: message.channel, name: this.slack.channels.get(message.channel)?.name ?? '' },
      team: { id: this.slack.teamId, domain: 'sandbox' },
      token: 'deprecated-verification-token',
      action_ts: `${Date.now() / 1000}`,
      is_enterprise_install: false,
    };
    return this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  /** Submits an open modal with values keyed by input block_id. */
  async submit(user: string, viewId: string, values: Record<string, InputValue>): Promise<SubmitResult> {
    const open = this.slack.views.get(viewId);
    if (!open || open.closed) throw new InvalidInteraction(`view ${viewId} is not open`);
    const state = buildState(open.view, values);
    const payload = {
      type: 'view_submission',
      team: { id: this.slack.teamId, domain: 'sandbox' },
      user: { id: user, username: this.slack.users.get(user)?.name ?? user, name: this.slack.users.get(user)?.name ?? user, team_id: this.slack.teamId },
      api_app_id: this.slack.appId,
      token: 'deprecated-verification-token',
      trigger_id: this.slack.issueTrigger(user),
      view: {
        ...open.view,
        id: viewId,
        team_id: this.slack.teamId,
        type: 'modal',
        hash: open.hash,
        state: { values: state },
        private_metadata: open.view.private_metadata ?? '',
        callback_id: open.view.callback_id ?? '',
        root_view_id: viewId,
        app_id: this.slack.appId,
        bot_id: this.slack.botId,
      },
      response_urls: [],
      is_enterprise_install: false,
    };
    const delivery = await this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    const answer = (delivery.body ?? {}) as { response_action?: string; errors?: Record<string, string>; view?: Json };
    if (delivery.status === 200 && answer.response_action === 'errors') return { ...delivery, errors: answer.errors };
    if (delivery.status === 200 && answer.response_action === 'update' && answer.view) {
      open.view = answer.view;
      return delivery;
    }
    if (delivery.status === 200) open.closed = true;
    return delivery;
  }

  async event(event: Json, options: { eventId?: string; retryNum?: number } = {}): Promise<Delivery> {
    const body = {
      token: 'deprecated-verification-token',
      team_id: this.slack.teamId,
      api_app_id: this.slack.appId,
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: 'event_callback',
      event_id: options.eventId ?? `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.slack.teamId, user_id: this.slack.botUserId, is_bot: true }],
    };
    return this.send(JSON.stringify(body), {
      'content-type': 'application/json',
      ...(options.retryNum ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
    });
  }

  // ---- people in channels: messages, edits, deletions, pins and reactions ----------
  // Each changes the workspace as Slack does and delivers the event Slack sends for it
  // (message.channels / message.groups, pin_*, reaction_*), when the app's bot is in the channel.

  /** A person posts a message (in a thread when `threadTs` is given). */
  async say(user: string, channel: string, text: string, options: { threadTs?: string } & EventOptions = {}): Promise<{ message: FakeMessage; delivery?: Delivery }> {
    const message = this.slack.post(this.slack.writableChannel(channel).id, { text, user, threadTs: options.threadTs });
    const delivery = await this.channelEvent(channel, { type: 'message', ...messageJson(this.slack, message), channel, event_ts: message.ts }, options);
    return { message, delivery };
  }

  /** The author edits their message. */
  async edit(user: string, message: FakeMessage, text: string, options: EventOptions = {}): Promise<Delivery | undefined> {
    if (message.user !== user) throw new InvalidInteraction('only the author can edit a message');
    const previous = messageJson(this.slack, message);
    message.text = text;
    message.edited = true;
    const at = this.slack.nextTs();
    const event = {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      channel: message.channel,
      ts: at,
      event_ts: at,
      message: { ...messageJson(this.slack, message), edited: { user, ts: at } },
      previous_message: previous,
    };
    return this.channelEvent(message.channel, event, options);
  }

  /** The author deletes their message. */
  async deleteMessage(user: string, message: FakeMessage, options: EventOptions = {}): Promise<Delivery | undefined> {
    if (message.user !== user) throw new InvalidInteraction('only the author can delete a message');
    const index = this.slack.messages.indexOf(message);
    if (index >= 0) this.slack.messages.splice(index, 1);
    const at = this.slack.nextTs();
    const event = {
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      channel: message.channel,
      ts: at,
      event_ts: at,
      deleted_ts: message.ts,
      previous_message: messageJson(this.slack, message),
    };
    return this.channelEvent(message.channel, event, options);
  }

  async pin(user: string, message: FakeMessage, options: EventOptions = {}): Promise<Delivery | undefined> {
    if (message.pinned) throw new InvalidInteraction('the message is already pinned');
    message.pinned = true;
    return this.pinEvent('pin_added', user, message, options);
  }

  async unpin(user: string, message: FakeMessage, options: EventOptions = {}): Promise<Delivery | undefined> {
    if (!message.pinned) throw new InvalidInteraction('the message is not pinned');
    message.pinned = false;
    return this.pinEvent('pin_removed', user, message, options);
  }

  /** A person adds a reaction; Slack lets each person add each reaction once. */
  async react(user: string, message: FakeMessage, name: string, options: EventOptions = {}): Promise<Delivery | undefined> {
    message.reactions ??= [];
    let reaction = message.reactions.find((candidate) => candidate.name === name);
    if (!reaction) {
      reaction = { name, users: [] };
      message.reactions.push(reaction);
    }
    if (reaction.users.includes(user)) throw new InvalidInteraction(`${user} already reacted with ${name}`);
    reaction.users.push(user);
    return this.reactionEvent('reaction_added', user, message, name, options);
  }

  async unreact(user: string, message: FakeMessage, name: string, options: EventOptions = {}): Promise<Delivery | undefined> {
    const reaction = message.reactions?.find((candidate) => candidate.name === name);
    if (!reaction?.users.includes(user)) throw new InvalidInteraction(`${user} has no ${name} reaction to remove`);
    reaction.users = reaction.users.filter((candidate) => candidate !== user);
    if (reaction.users.length === 0) message.reactions = message.reactions?.filter((candidate) => candidate !== reaction);
    return this.reactionEvent('reaction_removed', user, message, name, options);
  }

  private pinEvent(type: 'pin_added' | 'pin_removed', user: string, message: FakeMessage, options: EventOptions) {
    const permalink = `${this.slack.origin}/archives/${message.channel}/p${message.ts.replace('.', '')}`;
    const event = {
      type,
      user,
      channel_id: message.channel,
      item: { type: 'message', channel: message.channel, created: Math.floor(Date.now() / 1000), created_by: user, message: { ...messageJson(this.slack, message), permalink } },
      ...(type === 'pin_removed' ? { has_pins: false } : {}),
      event_ts: this.slack.nextTs(),
    };
    return this.channelEvent(message.channel, event, options);
  }

  private reactionEvent(type: 'reaction_added' | 'reaction_removed', user: string, message: FakeMessage, name: string, options: EventOptions) {
    const event = { type, user, reaction: name, item_user: message.user, item: { type: 'message', channel: message.channel, ts: message.ts }, event_ts: this.slack.nextTs() };
    return this.channelEvent(message.channel, event, options);
  }

  /**
   * Slack sends a channel's events only to apps whose bot is in it. `deliveries` > 1
   * sends the same event again with X-Slack-Retry-Num, as Slack does when the ack was late.
   */
  private async channelEvent(channelId: string, event: Json, options: EventOptions): Promise<Delivery | undefined> {
    const channel = this.slack.channels.get(channelId);
    if (!channel?.members.has(this.slack.botUserId)) return undefined;
    const eventId = options.eventId ?? `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`;
    const withType = event.type === 'message' ? { ...event, channel_type: channel.isPrivate ? 'group' : 'channel' } : event;
    const first = await this.event(withType, { eventId });
    for (let retry = 1; retry < (options.deliveries ?? 1); retry += 1) await this.event(withType, { eventId, retryNum: retry });
    return first;
  }

  /** Posts a raw body to the request URL, signed (or not) as the test asks. */
  async send(body: string, headers: Record<string, string> = {}, signing: { timestamp?: number; secret?: string; unsigned?: boolean } = {}): Promise<Delivery> {
    const timestamp = signing.timestamp ?? Math.floor((this.target.clock ?? systemClock).now().getTime() / 1000);
    const signature = signSlackRequest(signing.secret ?? this.target.signingSecret, timestamp, body);
    const response = await fetch(this.target.requestUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signing.unsigned ? {} : { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature }),
        ...headers,
      },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Slack accepts plain-text answers too.
    }
    return { status: response.status, body: parsed };
  }

  /** A command's HTTP answer is shown to its sender, as Slack shows it. */
  private applyMessageAnswer(body: unknown, target: ResponseTarget) {
    if (typeof body === 'string' && body.length > 0) this.slack.respond(target, { text: body });
    else if (body && typeof body === 'object' && ('text' in body || 'blocks' in body)) this.slack.respond(target, body as Json);
  }
}

/** Slack's v0 request signature. */
export function signSlackRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

function findElement(blocks: Json[], actionId: string): { blockId: string; element: Json } | undefined {
  for (const [index, block] of blocks.entries()) {
    const blockId = (block.block_id as string | undefined) ?? `block-${index}`;
    const candidates = [...((block.elements as Json[] | undefined) ?? []), ...(block.accessory ? [block.accessory as Json] : [])];
    const element = candidates.find((candidate) => candidate.action_id === actionId);
    if (element) return { blockId, element };
  }
  return undefined;
}

/** The `state.values` Slack would send for these inputs; unknown blocks and options are errors. */
function buildState(view: Json, values: Record<string, InputValue>): Json {
  const inputs = ((view.blocks as Json[] | undefined) ?? []).filter((block) => block.type === 'input');
  const known = new Set(inputs.map((block) => block.block_id as string));
  for (const blockId of Object.keys(values)) {
    if (!known.has(blockId)) throw new InvalidInteraction(`the view has no input block "${blockId}"`);
  }
  const state: Json = {};
  for (const block of inputs) {
    const element = block.element as Json;
    const actionId = element.action_id as string;
    const value = values[block.block_id as string];
    state[block.block_id as string] = { [actionId]: elementState(element, value) };
  }
  return state;
}

function elementState(element: Json, value: InputValue): Json {
  const type = element.type as string;
  const options = (element.options as Array<{ value: string; text: Json }> | undefined) ?? [];
  const option = (wanted: string) => {
    const found = options.find((candidate) => candidate.value === wanted);
    if (!found) throw new InvalidInteraction(`"${wanted}" is not an option of ${String(element.action_id)}`);
    return found;
  };
  switch (type) {
    case 'plain_text_input':
      return { type, value: typeof value === 'string' ? value : null };
    case 'static_select':
      return { type, selected_option: typeof value === 'string' ? option(value) : null };
    case 'users_select':
      return { type, selected_user: typeof value === 'string' ? value : null };
    case 'conversations_select':
    case 'channels_select':
      return { type, selected_conversation: typeof value === 'string' ? value : null };
    case 'checkboxes':
      return { type, selected_options: (Array.isArray(value) ? value : value ? [value] : []).map(option) };
    case 'datepicker':
      return { type, selected_date: typeof value === 'string' ? value : null };
    case 'datetimepicker':
      return { type, selected_date_time: typeof value === 'string' ? Math.floor(Date.parse(value) / 1000) : null };
    default:
      return { type, value: value ?? null };
  }
}
