import { approversOf, type Catalog } from '../catalog';
import { demoPeople, demoStart, purposeOf, type Suggestion, suggestionsFor } from './demo';
import type { LiveWorkspace, LoadState } from './live-workspace';
import { type AppManifest, declaresCommand, type MessageShortcut, type SlashCommand } from './manifest';
import type { FakeChannel } from '../fake-slack';

type Json = Record<string, unknown>;

/** Everything the page renders for one person: what they would see in Slack, and what they can do there. */
export interface PersonView {
  app: { name: string; botUserId: string };
  you: string;
  people: PersonSummary[];
  channels: ChannelSummary[];
  /** Messages of every channel in `channels`, with the person's own ephemeral messages, oldest first. */
  messages: MessageSummary[];
  /** The modal the person has open on top, if any. */
  modal: { id: string; hash: string; view: Json } | null;
  home: Json | null;
  homeTabEnabled: boolean;
  /** The person's direct-message channel with the app. */
  appChannel: string;
  /** Where the page opens. */
  startChannel: string;
  commands: SlashCommand[];
  shortcuts: MessageShortcut[];
  load: LoadState;
}

export interface PersonSummary {
  id: string;
  name: string;
  realName: string;
  title: string;
  /** What the catalog makes them: owner, on call, approver of a service. */
  roles: string[];
}

export interface ChannelSummary {
  id: string;
  name: string;
  isPrivate: boolean;
  isMember: boolean;
  memberCount: number;
  purpose: string;
  suggestions: Suggestion[];
}

export interface MessageSummary {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  blocks?: Json[];
  pinned: boolean;
  edited: boolean;
  /** Only visible to this person. */
  ephemeral: boolean;
  /** When the stand-in received it, ISO 8601. */
  at?: string;
}

/** Everything is read from the workspace; only the person's direct-message channel with the app is opened if it is not yet, as Slack shows one for every installed app. */
export function personView(slack: LiveWorkspace, person: string, manifest: AppManifest, catalog: Catalog): PersonView {
  const appChannel = slack.imWith(person);
  const channels = [...slack.channels.values()].filter((channel) => !channel.isIm && (!channel.isPrivate || channel.members.has(person)));
  const visible = new Set([...channels.map((channel) => channel.id), appChannel.id]);
  const views = slack.openViews(person);
  const top = views.at(-1);
  return {
    app: { name: manifest.name, botUserId: slack.botUserId },
    you: person,
    people: [...slack.users.values()].filter((user) => !user.isBot).map((user) => ({
      id: user.id,
      name: user.name,
      realName: user.realName,
      title: demoPeople.find((candidate) => candidate.id === user.id)?.title ?? '',
      roles: rolesOf(catalog, user.id),
    })),
    channels: channels.sort((a, b) => a.name.localeCompare(b.name)).map((channel) => channelSummary(channel, person, manifest)),
    messages: [
      ...slack.messages
        .filter((message) => visible.has(message.channel))
        .map((message): MessageSummary => ({
          channel: message.channel,
          ts: message.ts,
          threadTs: message.threadTs,
          user: message.user,
          text: message.text,
          blocks: message.blocks,
          pinned: message.pinned,
          edited: message.edited,
          ephemeral: false,
          at: slack.arrivedAt(message.ts)?.toISOString(),
        })),
      ...slack.ephemeralsFor(person).map((message): MessageSummary => ({
        channel: message.channel,
        ts: message.ts,
        user: slack.botUserId,
        text: message.text,
        blocks: message.blocks,
        pinned: false,
        edited: false,
        ephemeral: true,
        at: slack.arrivedAt(message.ts)?.toISOString(),
      })),
    ].sort((a, b) => Number(a.ts) - Number(b.ts)),
    modal: top ? { id: top.id, hash: top.hash, view: top.view } : null,
    home: slack.homes.get(person) ?? null,
    homeTabEnabled: manifest.homeTabEnabled,
    appChannel: appChannel.id,
    startChannel: demoStart.channel,
    commands: manifest.commands,
    shortcuts: manifest.messageShortcuts,
    load: slack.loadState,
  };
}

function channelSummary(channel: FakeChannel, person: string, manifest: AppManifest): ChannelSummary {
  return {
    id: channel.id,
    name: channel.name,
    isPrivate: channel.isPrivate,
    isMember: channel.members.has(person),
    memberCount: channel.members.size,
    purpose: purposeOf(channel),
    suggestions: suggestionsFor(channel).filter((suggestion) => declaresCommand(manifest, suggestion.text)),
  };
}

/** "owner of payments", "on call for payments", "approves search": so a visitor knows whom to switch to. */
function rolesOf(catalog: Catalog, person: string): string[] {
  return Object.entries(catalog.services).flatMap(([service, config]) => [
    ...(config.owners.includes(person) ? [`owner of ${service}`] : []),
    ...(config.oncall.includes(person) ? [`on call for ${service}`] : []),
    ...(approversOf(catalog, config).has(person) ? [`approves ${service}`] : []),
  ]);
}
