import { SlackApiError } from './answers';
import type { FakeUser, WebApiMethods } from './types';
import { userJson } from './wire';
import type { FakeSlack } from './workspace';

export const botUser: FakeUser = { id: 'U0TANDEMBOT', name: 'tandem', realName: 'Tandem', email: 'tandem@bots.invalid', tz: 'UTC', isBot: true };

/** auth.test and users.*: who the bot is, and looking people up. */
export function usersMethods(slack: FakeSlack): WebApiMethods {
  return {
    'auth.test': () => ({
      url: 'https://sandbox.slack.invalid/',
      team: 'Sandbox',
      user: botUser.name,
      team_id: slack.teamId,
      user_id: slack.botUserId,
      bot_id: slack.botId,
      is_enterprise_install: false,
    }),
    'users.info': (args) => ({ user: userJson(slack, slack.requireUser(args.user)) }),

    'users.lookupByEmail': (args) => {
      const email = String(args.email ?? '').toLowerCase();
      const user = [...slack.users.values()].find((candidate) => candidate.email.toLowerCase() === email);
      if (!user) throw new SlackApiError('users_not_found');
      return { user: userJson(slack, user) };
    },
  };
}
