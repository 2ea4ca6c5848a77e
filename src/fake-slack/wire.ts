import type { FakeChannel, FakeMessage, FakeUser, FakeView, Json } from './types';
import type { FakeSlack } from './workspace';

/** The JSON shapes Slack answers with for channels, messages, views and users. */

export function channelJson(slack: FakeSlack, channel: FakeChannel): Json {
  return {
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: !channel.isPrivate && !channel.isIm,
    is_group: channel.isPrivate && !channel.isIm,
    is_im: channel.isIm,
    is_private: channel.isPrivate,
    is_archived: channel.isArchived,
    is_general: false,
    is_member: channel.members.has(slack.botUserId),
    created: channel.created,
    creator: channel.creator,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    num_members: channel.members.size,
  };
}

export function messageJson(slack: FakeSlack, message: FakeMessage): Json {
  return {
    type: 'message',
    user: message.user,
    ...(message.botId ? { bot_id: message.botId, app_id: slack.appId } : {}),
    text: message.text,
    ts: message.ts,
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    team: slack.teamId,
  };
}

export function viewJson(slack: FakeSlack, view: FakeView): Json {
  return {
    ...view.view,
    id: view.id,
    team_id: slack.teamId,
    state: { values: {} },
    hash: view.hash,
    private_metadata: view.view.private_metadata ?? '',
    callback_id: view.view.callback_id ?? '',
    root_view_id: view.id,
    app_id: slack.appId,
    bot_id: slack.botId,
    previous_view_id: null,
  };
}

export function userJson(slack: FakeSlack, user: FakeUser): Json {
  return {
    id: user.id,
    team_id: slack.teamId,
    name: user.name,
    real_name: user.realName,
    tz: user.tz,
    is_bot: user.isBot ?? false,
    deleted: false,
    profile: { email: user.email, real_name: user.realName, display_name: user.name },
  };
}
