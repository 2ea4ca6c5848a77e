import type { App, MessageShortcut } from '@slack/bolt';
import { z } from 'zod';
import { isServiceTeam } from '../catalog';
import type { CustomerRequestRow } from '../db/schema';
import { invalid, notFound } from '../errors';
import type { Message, Option } from '../slack/blocks';
import type { CommandArgs, ShortcutArgs, ViewArgs } from '../slack/listener-args';
import { ephemeral } from '../slack/replies';
import { fromCommandText, toMrkdwn } from '../slack/text';
import { readViewState } from '../slack/view-state';
import {
  digestView,
  featureOption,
  formatDateRange,
  helpText,
  openRequestsList,
  postedTo,
  renderSprintDigest,
  requestFieldIds,
  requestLinkedReply,
  scheduleLine,
  sprintViewIds,
  subscriptionsList,
  trackRequestModal,
  trackRequestShortcut,
} from './blocks';
import type { SprintDeps } from './deps';
import { postDigestNow } from './digests';
import { addFeature, changeFeatureStatus, startSprint } from './features';
import { requireCurrentSprint, requireRequest, serviceForCommand, servicesOfRequest } from './lookup';
import { parseSprintCommand, requestKey, type SprintCommand } from './model';
import { requireAnyServiceTeam, requireServiceTeam } from './permissions';
import { addPermalink, linkRequest, trackRequest } from './requests';
import { listSubscriptions, subscribe, unsubscribe } from './subscriptions';
import * as store from './store';

/** `/sprint`, the "Track as customer request" message shortcut and its modal. */
export function register(app: App, deps: SprintDeps): void {
  app.command('/sprint', (args) => onSprintCommand(deps, args));
  app.shortcut<MessageShortcut>(trackRequestShortcut, (args) => onTrackRequest(deps, args));
  app.view(sprintViewIds.trackRequest, (args) => onTrackRequestSubmitted(deps, args));
}

async function onSprintCommand(deps: SprintDeps, { command, ack, respond }: CommandArgs) {
  const parsed = parseSprintCommand(fromCommandText(command.text));
  if (parsed.kind === 'help') return ack({ response_type: 'ephemeral', text: helpText });
  if (parsed.kind === 'invalid') return ack({ response_type: 'ephemeral', text: parsed.message });
  await ack();
  for (const reply of await runCommand(deps, parsed, command.user_id, command.channel_id)) {
    await respond({ response_type: 'ephemeral', replace_original: false, ...reply });
  }
}

/** Runs one subcommand for `user`, typed in `channel`; answers with the messages to show them. */
async function runCommand(
  deps: SprintDeps,
  parsed: Exclude<SprintCommand, { kind: 'help' | 'invalid' }>,
  user: string,
  channel: string,
): Promise<Message[]> {
  const { catalog } = deps;
  switch (parsed.kind) {
    case 'subscribe': {
      const { subscription, next } = await subscribe(deps, { ...parsed, actor: user });
      return [{ text: `📬 <#${subscription.channel}> gets the sprint digest of *${subscription.service}*: ${scheduleLine(subscription, next)}.` }];
    }
    case 'unsubscribe': {
      const subscription = await unsubscribe(deps, { ...parsed, actor: user });
      return [{ text: `🔕 <#${subscription.channel}> no longer gets the sprint digest of *${subscription.service}*.` }];
    }
    case 'link':
      return [await linkFromCommand(deps, parsed, user)];
    default:
      break;
  }
  const service = serviceForCommand(catalog, parsed.service, channel);
  switch (parsed.kind) {
    case 'show': {
      const onTeam = isServiceTeam(catalog, service, user);
      // The sprint, then its features and (for the team) the open requests side by side: two round trips.
      const sprint = await requireCurrentSprint(deps.db, service);
      const [features, requests] = await Promise.all([store.listFeatures(deps.db, sprint.id), onTeam ? openRequestsText(deps, service) : undefined]);
      const digest = renderSprintDigest(digestView(sprint, features, onTeam ? 'team' : 'customers'));
      return requests === undefined ? [digest] : [digest, { text: requests }];
    }
    default:
      break;
  }
  // Everything else shows or changes what customers must not see of each other: the service's people only.
  requireServiceTeam(catalog, service, user);
  switch (parsed.kind) {
    case 'requests':
      return [{ text: await openRequestsText(deps, service) }];
    case 'subscriptions':
      return [{ text: subscriptionsList(service, await listSubscriptions(deps, service)) }];
    case 'start': {
      const { sprint, channels } = await startSprint(deps, { ...parsed, service, actor: user });
      return [{ text: `🚀 Started *${toMrkdwn(sprint.name)}* for ${service} (${formatDateRange(sprint.startsOn, sprint.endsOn)}). ${postedTo(channels, service)}` }];
    }
    case 'add': {
      const { sprint, feature } = await addFeature(deps, { ...parsed, service, actor: user });
      const visibility = feature.customerVisible ? '' : ' as internal work, which customers never see';
      return [{ text: `➕ Added \`${feature.key}\` ${toMrkdwn(feature.title)} to *${toMrkdwn(sprint.name)}*${visibility}.` }];
    }
    case 'status': {
      const { feature, from } = await changeFeatureStatus(deps, { ...parsed, service, actor: user });
      return [{ text: `🔁 \`${feature.key}\` ${toMrkdwn(feature.title)}: ${from} → *${feature.status}*. Digests in customer channels are updated in place.` }];
    }
    case 'post': {
      const { sprint, channels } = await postDigestNow(deps, service);
      return [{ text: `📣 *${toMrkdwn(sprint.name)}*: ${postedTo(channels, service)}` }];
    }
  }
}

async function openRequestsText(deps: SprintDeps, service: string): Promise<string> {
  const customers = deps.catalog.services[service]?.channels.customers ?? [];
  return openRequestsList(service, await store.listOpenRequests(deps.db, service, customers, 25));
}

/**
 * `/sprint link R-4 F-2`: the feature is looked up in the current sprint of the
 * request's service. Linking reads the sprint's features, internal ones included, so
 * the team check comes before anything about the request's service or its features.
 */
async function linkFromCommand(deps: SprintDeps, parsed: Extract<SprintCommand, { kind: 'link' }>, user: string): Promise<Message> {
  const { catalog } = deps;
  if (parsed.service) requireServiceTeam(catalog, parsed.service, user);
  requireAnyServiceTeam(catalog, user);
  const request = await requireRequest(deps.db, parsed.request);
  const candidates = servicesOfRequest(catalog, request);
  const service = parsed.service ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!service) {
    const where = candidates.length > 1 ? `belongs to ${candidates.join(' and ')}` : 'no service lists as a customer channel any more';
    throw invalid('service_required', `${requestKey(request.number)} was raised in <#${request.channel}>, which ${where}. Say which service’s sprint has the feature with \`service=<name>\`.`);
  }
  requireServiceTeam(catalog, service, user);
  const sprint = await requireCurrentSprint(deps.db, service);
  const feature = await store.findFeatureByKey(deps.db, sprint.id, parsed.feature);
  if (!feature) throw notFound('feature_not_found', `${sprint.name} (${service}) has no feature ${parsed.feature}. \`/sprint show\` lists its features.`);
  const linked = await linkRequest(deps, { requestId: request.id, featureId: feature.id });
  return requestLinkedReply(linked.request, linked.feature);
}

const messageShortcut = z.object({
  trigger_id: z.string(),
  user: z.object({ id: z.string() }),
  channel: z.object({ id: z.string() }),
  message: z.object({ ts: z.string(), text: z.string().optional(), user: z.string().optional() }),
});

/** "Track as customer request" on a message: records it at once, then asks which feature answers it. */
async function onTrackRequest(deps: SprintDeps, { ack, body, client, respond }: ShortcutArgs) {
  await ack();
  const payload = messageShortcut.safeParse(body);
  if (!payload.success) {
    await respond(ephemeral('Slack sent this shortcut without the message it was used on, so nothing was tracked. Please try again.'));
    return;
  }
  const { trigger_id: triggerId, user, channel, message } = payload.data;
  const { request, created } = await trackRequest(deps, {
    channel: channel.id,
    messageTs: message.ts,
    text: message.text ?? '',
    requester: message.user,
    actor: user.id,
  });
  await client.views.open({ trigger_id: triggerId, view: trackRequestModal(request, await featureChoices(deps, request, user.id), !created) });
  if (created) deps.background.run(() => addPermalink(deps, request));
}

/**
 * Features of the current sprints of the request's services that could still answer
 * it. Whoever uses the shortcut in a customer channel may be a customer-success lead
 * or the customer themselves (Slack Connect): outside a service's team they get its
 * customer-visible features only, named as the digest names them, without keys.
 */
async function featureChoices(deps: SprintDeps, request: CustomerRequestRow, user: string): Promise<Option[]> {
  const services = servicesOfRequest(deps.catalog, request);
  const choices: Option[] = [];
  for (const service of services) {
    const sprint = await store.findCurrentSprint(deps.db, service);
    if (!sprint) continue;
    const audience = isServiceTeam(deps.catalog, service, user) ? 'team' : 'customers';
    for (const feature of await store.listFeatures(deps.db, sprint.id)) {
      if (feature.status === 'dropped' || (audience === 'customers' && !feature.customerVisible)) continue;
      choices.push(featureOption(feature, audience, services.length > 1 ? service : undefined));
    }
  }
  return choices;
}

const requestMetadata = z.object({ requestId: z.uuid() });

async function onTrackRequestSubmitted(deps: SprintDeps, { ack, view, body }: ViewArgs) {
  const state = readViewState(view);
  const metadata = state.metadata(requestMetadata);
  const featureId = state.selected(requestFieldIds.feature);
  if (!metadata) {
    await ack({ response_action: 'errors', errors: { [requestFieldIds.feature]: 'This form is out of date; close it and use the shortcut again.' } });
    return;
  }
  // No feature chosen: the request stays tracked, and its service's owners are reminded about it.
  if (!featureId) return ack();
  const { request, feature } = await linkRequest(deps, { requestId: metadata.requestId, featureId });
  await ack();
  await deps.slack.chat.postMessage({ channel: body.user.id, ...requestLinkedReply(request, feature) });
}
