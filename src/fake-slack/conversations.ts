import { SlackApiError } from './answers';
import type { WebApiMethods } from './types';
import { channelJson } from './wire';
import type { FakeSlack } from './workspace';

/** conversations.*: creating, listing and joining channels, and inviting people to them. */
export function conversationsMethods(slack: FakeSlack): WebApiMethods {
  return {
    'conversations.create': (args) => {
      const name = String(args.name ?? '');
      if (!name) throw new SlackApiError('invalid_name_required');
      if (name.length > 80) throw new SlackApiError('invalid_name_maxlength');
      if (!/^[a-z0-9_-]+$/.test(name)) throw new SlackApiError('invalid_name_specials');
      if (slack.channelByName(name)) throw new SlackApiError('name_taken');
      const channel = slack.addChannel({ name, isPrivate: args.is_private === true || args.is_private === 'true' });
      return { channel: channelJson(slack, channel) };
    },

    'conversations.list': (args) => {
      const types = String(args.types ?? 'public_channel').split(',');
      const listed = [...slack.channels.values()].filter(
        (channel) =>
          !channel.isIm &&
          types.includes(channel.isPrivate ? 'private_channel' : 'public_channel') &&
          (!channel.isPrivate || channel.members.has(slack.botUserId)) &&
          !(channel.isArchived && (args.exclude_archived === true || args.exclude_archived === 'true')),
      );
      const start = Number(args.cursor || 0);
      const limit = Math.min(1000, Number(args.limit ?? 100));
      const page = listed.slice(start, start + limit);
      const next = start + limit < listed.length ? String(start + limit) : '';
      return { channels: page.map((channel) => channelJson(slack, channel)), response_metadata: { next_cursor: next } };
    },

    'conversations.info': (args) => ({ channel: channelJson(slack, slack.visibleChannel(args.channel)) }),
    'conversations.join': (args) => {
      const channel = slack.visibleChannel(args.channel);
      if (channel.isPrivate) throw new SlackApiError('method_not_supported_for_channel_type');
      if (channel.isArchived) throw new SlackApiError('is_archived');
      channel.members.add(slack.botUserId);
      return { channel: channelJson(slack, channel) };
    },

    'conversations.invite': (args) => {
      const channel = slack.visibleChannel(args.channel);
      if (!channel.members.has(slack.botUserId)) throw new SlackApiError('not_in_channel');
      if (channel.isArchived) throw new SlackApiError('is_archived');
      const users = String(args.users ?? '')
        .split(',')
        .map((user) => user.trim())
        .filter(Boolean);
      if (users.length === 0) throw new SlackApiError('no_user');
      const errors: Array<{ user: string; ok: false; error: string }> = [];
      const valid: string[] = [];
      for (const user of users) {
        if (user === slack.botUserId) errors.push({ user, ok: false, error: 'cant_invite_self' });
        else if (!slack.users.has(user)) errors.push({ user, ok: false, error: 'user_not_found' });
        else if (channel.members.has(user)) errors.push({ user, ok: false, error: 'already_in_channel' });
        else valid.push(user);
      }
      const force = args.force === true || args.force === 'true';
      if (errors.length > 0 && (!force || valid.length === 0)) {
        throw new SlackApiError(errors[0]!.error, { errors });
      }
      for (const user of valid) channel.members.add(user);
      return { channel: channelJson(slack, channel), ...(errors.length > 0 ? { errors } : {}) };
    },

    'conversations.archive': (args) => {
      const channel = slack.visibleChannel(args.channel);
      if (channel.isIm) throw new SlackApiError('method_not_supported_for_channel_type');
      if (channel.name === 'general') throw new SlackApiError('cant_archive_general');
      if (channel.isArchived) throw new SlackApiError('already_archived');
      if (!channel.members.has(slack.botUserId)) throw new SlackApiError('not_in_channel');
      channel.isArchived = true;
      return {};
    },

    'conversations.members': (args) => ({ members: [...slack.visibleChannel(args.channel).members] }),
  };
}
