import { SlackApiError } from './answers';
import type { WebApiMethods } from './types';
import type { FakeSlack } from './workspace';

/** pins.*: pinning a message in its channel. */
export function pinsMethods(slack: FakeSlack): WebApiMethods {
  return {
    'pins.add': (args) => {
      const channel = slack.visibleChannel(args.channel);
      if (!channel.members.has(slack.botUserId)) throw new SlackApiError('not_in_channel');
      const message = slack.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.timestamp);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.pinned) throw new SlackApiError('already_pinned');
      message.pinned = true;
      return {};
    },
  };
}
