import { blockProblems } from './block-kit';
import { SlackApiError } from './answers';
import type { Json, WebApiMethods } from './types';
import { messageJson } from './wire';
import type { FakeSlack } from './workspace';

/** chat.*: posting, updating and linking to messages. */
export function chatMethods(slack: FakeSlack): WebApiMethods {
  return {
    'chat.postMessage': (args) => {
      const channel = slack.writableChannel(args.channel);
      checkMessage(args);
      const message = slack.post(channel.id, {
        text: String(args.text ?? ''),
        blocks: args.blocks as Json[] | undefined,
        threadTs: args.thread_ts as string | undefined,
      });
      return { channel: channel.id, ts: message.ts, message: messageJson(slack, message) };
    },

    'chat.postEphemeral': (args) => {
      const channel = slack.writableChannel(args.channel);
      const user = String(args.user ?? '');
      if (!channel.members.has(user)) throw new SlackApiError('user_not_in_channel');
      checkMessage(args);
      const ts = slack.nextTs();
      slack.ephemerals.push({ channel: channel.id, user, text: String(args.text ?? ''), blocks: args.blocks as Json[] | undefined, ts });
      return { message_ts: ts };
    },

    'chat.update': (args) => {
      const channel = slack.writableChannel(args.channel);
      const message = slack.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.ts);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.user !== slack.botUserId) throw new SlackApiError('cant_update_message');
      checkMessage(args);
      message.text = String(args.text ?? message.text);
      if (args.blocks !== undefined) message.blocks = args.blocks as Json[];
      message.edited = true;
      return { channel: channel.id, ts: message.ts, text: message.text, message: messageJson(slack, message) };
    },

    'chat.getPermalink': (args) => {
      const channel = slack.visibleChannel(args.channel);
      const message = slack.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.message_ts);
      if (!message) throw new SlackApiError('message_not_found');
      return { channel: channel.id, permalink: `${slack.origin}/archives/${channel.id}/p${message.ts.replace('.', '')}` };
    },
  };
}

/** Slack refuses a message with neither text nor blocks, over 40,000 characters, or with invalid blocks. */
function checkMessage(args: Json) {
  const text = args.text;
  const blocks = args.blocks;
  if ((text === undefined || text === '') && (blocks === undefined || (Array.isArray(blocks) && blocks.length === 0))) {
    throw new SlackApiError('no_text');
  }
  if (typeof text === 'string' && text.length > 40_000) throw new SlackApiError('msg_too_long');
  const problems = blockProblems(blocks, 50);
  if (problems.length > 0) throw new SlackApiError('invalid_blocks', { errors: problems });
}
