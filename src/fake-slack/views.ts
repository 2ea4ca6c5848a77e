import { SlackApiError } from './answers';
import { viewProblems } from './block-kit';
import type { FakeView, Json, WebApiMethods } from './types';
import { viewJson } from './wire';
import type { FakeSlack } from './workspace';

/** views.*: modals opened from a trigger, updated by hash, and the App Home. */
export function viewsMethods(slack: FakeSlack): WebApiMethods {
  return {
    'views.open': (args) => {
      const trigger = slack.triggers.get(String(args.trigger_id ?? ''));
      if (!trigger) throw new SlackApiError('invalid_trigger_id');
      if (trigger.used) throw new SlackApiError('exchanged_trigger_id');
      const view = parseView(args.view);
      trigger.used = true;
      const opened: FakeView = { id: slack.nextId('V'), hash: slack.nextHash(), user: trigger.user, view, closed: false };
      slack.views.set(opened.id, opened);
      return { view: viewJson(slack, opened) };
    },

    'views.update': (args) => {
      const existing = slack.views.get(String(args.view_id ?? ''));
      if (!existing || existing.closed) throw new SlackApiError('not_found');
      if (args.hash !== undefined && args.hash !== existing.hash) throw new SlackApiError('hash_conflict');
      existing.view = parseView(args.view);
      existing.hash = slack.nextHash();
      return { view: viewJson(slack, existing) };
    },

    'views.publish': (args) => {
      const user = String(args.user_id ?? '');
      if (!slack.users.has(user)) throw new SlackApiError('user_not_found');
      const view = parseView(args.view);
      if (view.type !== 'home') throw new SlackApiError('invalid_arguments', { response_metadata: { messages: ['view.type must be home'] } });
      slack.homes.set(user, view);
      return { view: { ...view, id: slack.nextId('V'), hash: slack.nextHash() } };
    },
  };
}

function parseView(raw: unknown): Json {
  const view = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Json | undefined;
  if (!view || typeof view !== 'object') throw new SlackApiError('invalid_arguments');
  const problems = viewProblems(view);
  if (problems.length > 0) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: problems } });
  return view;
}
