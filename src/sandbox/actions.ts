import type { AppManifest } from './manifest';
import type { LiveWorkspace } from './live-workspace';
import { type Delivery, type FakeChannel, type FakeEphemeral, type FakeMessage, type FakeSlack, type InputValue, InvalidInteraction, type SlackSimulator } from '../fake-slack';
import { encodeTypedText } from './typed-text';

/** What Slack would show the person after they did something: a notice, or field errors in their modal. */
export interface Outcome {
  problem?: string;
  errors?: Record<string, string>;
}

/** A request from the page the sandbox refuses: malformed, naming something that is not there, or something Slack would not let a person do. */
export class SandboxRequestError extends Error {
  override name = 'SandboxRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The people the page may act as: the workspace's users, not the app's bot. */
export function requirePerson(slack: FakeSlack, person: string): void {
  const user = slack.users.get(person);
  if (!user || user.isBot) throw new SandboxRequestError(404, 'unknown_person', `Nobody in this workspace has the ID ${person}.`);
}

/** Where a clicked element is: a message, the person's ephemeral message, their open modal, or their Home tab. */
export type ClickTarget = { channel: string; ts: string } | { ephemeralTs: string } | { viewId: string } | { home: true };

/**
 * What a person can do in the stand-in workspace from the browser, each done the
 * way Slack does it: the simulator signs and delivers it to Tandem's request URL.
 * The browser never reaches Tandem itself.
 */
export class WorkspaceActions {
  constructor(
    private readonly slack: LiveWorkspace,
    private readonly simulator: SlackSimulator,
    private readonly manifest: AppManifest,
  ) {}

  /** A line typed into a channel's composer: a slash command when it starts with `/`, else a message. */
  async send(person: string, channelId: string, text: string): Promise<Outcome> {
    requirePerson(this.slack, person);
    const channel = this.channelFor(person, channelId);
    // Writing in a public channel joins it, as Slack's "Join channel" does first.
    channel.members.add(person);
    const command = /^(\/\S+)\s*([\s\S]*)$/.exec(text.trim());
    if (!command) {
      const typed = encodeTypedText(this.slack, text.trim(), 'message');
      // Slack sends the app the channel's messages when it subscribed to them (Tandem keeps incident channels').
      const subscribed = !channel.isIm && this.manifest.botEvents.includes(channel.isPrivate ? 'message.groups' : 'message.channels');
      if (subscribed) await this.simulator.say(person, channel.id, typed);
      else this.slack.post(channel.id, { text: typed, user: person });
      this.slack.changed();
      return {};
    }
    const name = command[1]!;
    const rest = command[2] ?? '';
    const declared = this.manifest.commands.find((candidate) => candidate.command === name);
    if (!declared) {
      return { problem: `${name} is not a valid command. In Slack, all messages that start with "/" are interpreted as commands.` };
    }
    const typed = declared.shouldEscape ? encodeTypedText(this.slack, rest, 'command') : rest;
    return this.delivered(await this.simulator.command(person, channel.id, name, typed), name);
  }

  async click(person: string, target: ClickTarget, actionId: string): Promise<Outcome> {
    requirePerson(this.slack, person);
    return this.delivered(await this.interaction(() => this.simulator.click(person, this.clickSource(person, target), actionId)));
  }

  async useShortcut(person: string, channelId: string, ts: string, callbackId: string): Promise<Outcome> {
    requirePerson(this.slack, person);
    if (!this.manifest.messageShortcuts.some((shortcut) => shortcut.callbackId === callbackId)) {
      throw new SandboxRequestError(400, 'unknown_shortcut', `The app has no message shortcut "${callbackId}".`);
    }
    const message = this.messageFor(person, channelId, ts);
    return this.delivered(await this.simulator.shortcut(person, message, callbackId));
  }

  async submitView(person: string, viewId: string, values: Record<string, InputValue>): Promise<Outcome> {
    requirePerson(this.slack, person);
    this.openViewOf(person, viewId);
    const result = await this.interaction(() => this.simulator.submit(person, viewId, values));
    return result.errors ? { errors: result.errors } : this.delivered(result);
  }

  closeView(person: string, viewId: string): void {
    requirePerson(this.slack, person);
    this.openViewOf(person, viewId).closed = true;
    this.slack.changed();
  }

  /** Opening the app's Home tab; Slack tells the app when it subscribed to `app_home_opened`, so it can publish the tab. */
  async openHome(person: string): Promise<Outcome> {
    requirePerson(this.slack, person);
    if (!this.manifest.botEvents.includes('app_home_opened')) return {};
    const home = this.slack.homes.get(person);
    const event = { type: 'app_home_opened', user: person, channel: this.slack.imWith(person).id, tab: 'home', ...(home ? { view: home } : {}) };
    return this.delivered(await this.simulator.event(event));
  }

  // ---- what the person may reach ------------------------------------------------

  /** Public channels, private channels the person is in, and their direct messages with the app. */
  private channelFor(person: string, channelId: string): FakeChannel {
    const channel = this.slack.channels.get(channelId);
    if (!channel || ((channel.isPrivate || channel.isIm) && !channel.members.has(person))) {
      throw new SandboxRequestError(404, 'channel_not_found', `${channelId} is not a channel you can see.`);
    }
    return channel;
  }

  private messageFor(person: string, channelId: string, ts: string): FakeMessage {
    const channel = this.channelFor(person, channelId);
    const message = this.slack.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === ts);
    if (!message) throw new SandboxRequestError(404, 'message_not_found', `There is no message ${ts} in ${channelId}.`);
    return message;
  }

  private ephemeralFor(person: string, ts: string): FakeEphemeral {
    const ephemeral = this.slack.ephemerals.find((candidate) => candidate.user === person && candidate.ts === ts);
    if (!ephemeral) throw new SandboxRequestError(404, 'message_not_found', `There is no message ${ts} only visible to you.`);
    return ephemeral;
  }

  private openViewOf(person: string, viewId: string) {
    const view = this.slack.views.get(viewId);
    if (!view || view.closed || view.user !== person) throw new SandboxRequestError(404, 'view_not_found', `You have no open modal ${viewId}.`);
    return view;
  }

  private clickSource(person: string, target: ClickTarget): Parameters<SlackSimulator['click']>[1] {
    if ('home' in target) return { homeOf: person };
    if ('viewId' in target) return { viewId: this.openViewOf(person, target.viewId).id };
    if ('ephemeralTs' in target) return { ephemeral: this.ephemeralFor(person, target.ephemeralTs) };
    return { message: this.messageFor(person, target.channel, target.ts) };
  }

  /** Runs a simulated interaction; what Slack's UI would not allow becomes a 400. */
  private async interaction<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof InvalidInteraction) throw new SandboxRequestError(400, 'invalid_interaction', error.message);
      throw error;
    } finally {
      this.slack.changed();
    }
  }

  /** Slack tells the person when the app did not answer a request with success. */
  private delivered(delivery: Delivery, command?: string): Outcome {
    this.slack.changed();
    if (delivery.status < 300) return {};
    const what = command ? `${command} failed` : 'That did not work';
    return { problem: `${what}: Tandem answered HTTP ${delivery.status}.` };
  }
}
