import type { Json } from './types';
import type { FakeSlack } from './workspace';

/** The bot scope Slack requires for this call, when it requires one. */
export function scopeNeeded(slack: FakeSlack, scopes: ReadonlySet<string> | undefined, method: string, args: Json): string | undefined {
  const channel = slack.channels.get(String(args.channel ?? ''));
  const privateChannel = channel?.isPrivate ?? (args.is_private === true || args.is_private === 'true');
  switch (method) {
    case 'conversations.create':
    case 'conversations.invite':
    case 'conversations.archive':
      return privateChannel ? 'groups:write' : 'channels:manage';
    case 'conversations.info':
    case 'conversations.members':
      return privateChannel ? 'groups:read' : 'channels:read';
    case 'conversations.list':
      return String(args.types ?? '').includes('private_channel') ? 'groups:read' : 'channels:read';
    case 'conversations.join':
      return 'channels:join';
    case 'chat.postMessage':
      if (channel && !channel.isPrivate && !channel.members.has(slack.botUserId) && scopes && !scopes.has('chat:write.public')) {
        return 'chat:write.public';
      }
      return 'chat:write';
    case 'chat.postEphemeral':
    case 'chat.update':
      return 'chat:write';
    case 'pins.add':
      return 'pins:write';
    case 'users.info':
      return 'users:read';
    case 'users.lookupByEmail':
      return 'users:read.email';
    case 'files.getUploadURLExternal':
    case 'files.completeUploadExternal':
      return 'files:write';
    default:
      return undefined;
  }
}
