import type { CustomerRequestRow, DigestSubscriptionRow } from '../db/schema';
import {
  type Block,
  context,
  divider,
  header,
  type Message,
  modal,
  type ModalView,
  option,
  type Option,
  section,
  selectInput,
} from '../slack/blocks';
import { actorMention, slackDate, toMrkdwn, toPlainText, truncate } from '../slack/text';
import { type FeatureStatus, type FeatureSummary, featureStatuses, maxFeatureTitleLength, requestKey, sprintProgress } from './model';
import type { OpenRequest } from './store';

/** Every Block Kit message and modal of sprints. Views render; listeners decide. */

export const sprintViewIds = { trackRequest: 'sprint.track_request' } as const;
/** The message shortcut's callback_id, as declared in the manifest. */
export const trackRequestShortcut = 'sprint.track_request';
export const requestFieldIds = { feature: 'feature' } as const;

/** Customer-facing names, in the order a digest shows them: what shipped first. */
const statusHeadings: Record<FeatureStatus, string> = {
  done: '✅ Done',
  'in-uat': '🧪 In acceptance testing',
  'in-dev': '🛠️ In development',
  planned: '🗓️ Planned',
  dropped: '↩️ Moved out of this sprint',
};
const digestOrder: FeatureStatus[] = ['done', 'in-uat', 'in-dev', 'planned', 'dropped'];

/** A long group shows at most this many features and counts the rest, so a digest stays readable. */
export const maxFeaturesPerGroup = 20;
const maxTextLength = 3000;
const maxBlocks = 50;

export interface DigestView {
  sprint: { name: string; service: string; startsOn: string; endsOn: string };
  /** In the order they were added. */
  features: readonly FeatureSummary[];
  /** Customers never see internal features or keys; the team sees both. */
  audience: 'customers' | 'team';
}

export const digestView = (sprint: DigestView['sprint'], features: readonly FeatureSummary[], audience: DigestView['audience']): DigestView => ({
  sprint,
  features,
  audience,
});

/**
 * The sprint digest: customer-visible features grouped by status, with the sprint's
 * dates and progress. At most 50 blocks and 3,000 characters per text; features past
 * a group's limit are counted in that group, never left out silently.
 */
export function renderSprintDigest(view: DigestView): Message {
  const { sprint, audience } = view;
  const features = audience === 'customers' ? view.features.filter((feature) => feature.customerVisible) : view.features;
  const progress = sprintProgress(features);
  const name = toPlainText(sprint.name);
  const top: Block[] = [header(`${name} · ${sprint.service}`), context(`🗓️ ${formatDateRange(sprint.startsOn, sprint.endsOn)}`)];
  const footer = context(
    audience === 'customers'
      ? 'This message is kept up to date as work progresses. Questions or requests? Ask in this channel.'
      : 'Team view: keys and internal features (🔒) are shown. Customers see only what is not internal.',
  );
  const text = `${name} (${sprint.service}): ${progress.done} of ${progress.committed} ${plural(progress.committed, 'feature')} done`;
  if (features.length === 0) {
    const empty = audience === 'customers' ? 'No customer-facing features are planned for this sprint yet.' : 'This sprint has no features yet. Add one with `/sprint add <title>`.';
    return { text, blocks: [...top, section(empty), footer] };
  }
  top.push(
    section(`*Progress* ${progressBar(progress.percent)} ${progress.percent}%  ·  ${progress.done} of ${progress.committed} ${plural(progress.committed, 'feature')} done`),
    divider(),
  );
  // Very long titles take more room: show fewer per group until the digest fits Slack's 50 blocks.
  for (let limit = maxFeaturesPerGroup; ; limit = Math.floor(limit / 2)) {
    const groups = digestOrder.flatMap((status) => {
      const group = features.filter((feature) => feature.status === status);
      return group.length > 0 ? groupSections(status, group, audience, limit) : [];
    });
    const blocks = [...top, ...groups, footer];
    if (blocks.length <= maxBlocks || limit <= 1) return { text, blocks };
  }
}

function groupSections(status: FeatureStatus, group: readonly FeatureSummary[], audience: DigestView['audience'], limit: number): Block[] {
  const lines = group.slice(0, limit).map((feature) => featureLine(feature, audience));
  const hidden = group.length - lines.length;
  if (hidden > 0) lines.push(`_…and ${hidden} more_`);
  return packLines(`*${statusHeadings[status]}* (${group.length})`, lines).map((text) => section(text));
}

function featureLine(feature: FeatureSummary, audience: DigestView['audience']): string {
  // One line per feature: a newline in a title would break the list.
  const title = toMrkdwn(truncate(toPlainText(feature.title).replace(/\s+/g, ' ').trim(), maxFeatureTitleLength));
  if (audience === 'customers') return `• ${title}`;
  return `• \`${toMrkdwn(feature.key)}\` ${title}${feature.customerVisible ? '' : ' 🔒'}`;
}

/** Lines joined into as few texts as fit Slack's 3,000 characters each; the heading leads the first. */
function packLines(heading: string, lines: string[]): string[] {
  const texts: string[] = [];
  let current = heading;
  for (const line of lines) {
    if (current.length + 1 + line.length > maxTextLength) {
      texts.push(current);
      current = line;
    } else {
      current = `${current}\n${line}`;
    }
  }
  texts.push(current);
  return texts;
}

const progressBar = (percent: number) => {
  const filled = Math.round(percent / 10);
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)}`;
};

const plural = (count: number, word: string) => (count === 1 ? word : `${word}s`);

const shortDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** "23 Nov – 4 Dec 2026", or with both years when the sprint spans New Year. */
export function formatDateRange(startsOn: string, endsOn: string): string {
  const start = new Date(`${startsOn}T00:00:00Z`);
  const end = new Date(`${endsOn}T00:00:00Z`);
  const sameYear = start.getUTCFullYear() === end.getUTCFullYear();
  return `${(sameYear ? shortDate : longDate).format(start)} – ${longDate.format(end)}`;
}

// ---- replies to commands --------------------------------------------------------------

/** The help of `/sprint`, made once. */
export const helpText = [
  '*Sprints* (add `service=<name>` when the channel does not say which service)',
  '• `/sprint show`: the current sprint, as the team sees it',
  '• `/sprint start <name> <start-date> <end-date>`: start a sprint and post its digest to subscribed channels',
  '• `/sprint add [internal] <feature title>`: add a feature (internal ones are never shown to customers)',
  `• \`/sprint status <feature-id> <${featureStatuses.join('|')}>\`: change a feature’s status`,
  '• `/sprint post`: post the digest to subscribed channels now',
  '*Customer requests*',
  '• On a message in a customer channel: ⋮ → *Track as customer request*',
  '• `/sprint requests`: open requests',
  '• `/sprint link <request-id> <feature-id>`: the feature that answers a request',
  '*Digests*',
  '• `/sprint subscribe #channel [<cron>] [<tz>]`: post the digest on a schedule (default Mondays 09:00)',
  '• `/sprint unsubscribe #channel` · `/sprint subscriptions`',
].join('\n');

function channelList(channels: readonly string[]): string {
  return channels.map((channel) => `<#${channel}>`).join(', ');
}

/** The line that says where a digest went. */
export function postedTo(channels: readonly string[], service: string): string {
  return channels.length > 0
    ? `The digest is on its way to ${channelList(channels)}.`
    : `No customer channel gets the digest of ${service} yet: \`/sprint subscribe #channel\`.`;
}

export function scheduleLine(subscription: Pick<DigestSubscriptionRow, 'cron' | 'timeZone'>, next: Date | undefined): string {
  return `\`${subscription.cron}\` in ${subscription.timeZone}${next ? `, next ${slackDate(next)}` : ''}`;
}

export function subscriptionsList(service: string, subscriptions: ReadonlyArray<{ subscription: DigestSubscriptionRow; next?: Date }>): string {
  if (subscriptions.length === 0) return `No channel gets the sprint digest of ${service}. Subscribe one with \`/sprint subscribe #channel\`.`;
  return [
    `The sprint digest of *${service}* goes to:`,
    ...subscriptions.map(({ subscription, next }) => `• <#${subscription.channel}>: ${scheduleLine(subscription, next)} (subscribed by ${actorMention(subscription.subscribedBy)})`),
  ].join('\n');
}

/** Told to the owners and the subscriber when Slack refuses a subscribed channel. */
export function subscriptionDisabledNotice(subscription: DigestSubscriptionRow, reason: string): Message {
  return {
    text: `⚠️ I stopped posting the sprint digest of *${subscription.service}* to <#${subscription.channel}>. ${reason} Once that is sorted, subscribe the channel again with \`/sprint subscribe <#${subscription.channel}>\`.`,
  };
}

// ---- customer requests --------------------------------------------------------------

const requestLabel = (request: Pick<CustomerRequestRow, 'number' | 'text'>) =>
  `${requestKey(request.number)} “${truncate(toPlainText(request.text).replace(/\s+/g, ' '), 80)}”`;

const requestLink = (request: CustomerRequestRow) =>
  request.permalink ? `<${request.permalink}|${toMrkdwn(requestLabel(request))}>` : toMrkdwn(requestLabel(request));

export function openRequestsList(service: string, open: readonly OpenRequest[]): string {
  if (open.length === 0) return `No open customer requests for ${service}.`;
  const lines = open.map(({ request, feature }) => {
    const answer = feature ? `→ \`${toMrkdwn(feature.key)}\` ${toMrkdwn(feature.title)} (${feature.status})` : '→ _no feature yet_';
    return `• ${requestLink(request)} in <#${request.channel}> ${answer}`;
  });
  return truncate([`*Open customer requests for ${service}*`, ...lines, 'Link one to the feature that answers it: `/sprint link R-4 F-2`.'].join('\n'), maxTextLength);
}

/** The modal after "Track as customer request": the request is recorded; this links it to a feature. */
export function trackRequestModal(request: CustomerRequestRow, features: readonly Option[], alreadyTracked: boolean): ModalView {
  const quote = toMrkdwn(truncate(request.text, 500)).replace(/^/gm, '>');
  const intro = alreadyTracked
    ? `This message is already tracked as *${requestKey(request.number)}*.`
    : `Tracked as *${requestKey(request.number)}*. When the feature that answers it is done, <#${request.channel}> is told in the message’s thread.`;
  const blocks: Block[] = [section(`${intro}\n${quote}`)];
  if (features.length > 0) {
    blocks.push(
      selectInput(requestFieldIds.feature, 'Feature that answers it', [...features], {
        optional: true,
        initial: request.featureId ?? undefined,
        hint: 'Leave empty if no feature answers it yet; its service’s owners are reminded until one does.',
      }),
    );
    return modal(sprintViewIds.trackRequest, 'Customer request', blocks, 'Save', { requestId: request.id });
  }
  blocks.push(context('The current sprint has no features to link yet. Its team can link one later with `/sprint link`.'));
  return modal(sprintViewIds.trackRequest, 'Customer request', blocks, undefined, { requestId: request.id });
}

/** A feature in the request form: the team sees keys and marks internal work (🔒); customers see titles, as in the digest. */
export function featureOption(feature: { id: string; key: string; title: string; customerVisible: boolean }, audience: DigestView['audience'], service?: string): Option {
  const prefix = service ? `${service} · ` : '';
  const title = toPlainText(feature.title);
  // The mark leads, so Slack's 75-character limit never cuts it off a long title.
  return option(audience === 'team' ? `${prefix}${feature.key} · ${feature.customerVisible ? '' : '🔒 '}${title}` : `${prefix}${title}`, feature.id);
}

export function requestLinkedReply(request: CustomerRequestRow, feature: { key: string; title: string; status: FeatureStatus }): Message {
  const shipped = feature.status === 'done' ? ' It is already done, so the channel has been told.' : ' The channel is told in the thread when it ships.';
  return { text: `🔗 ${requestLink(request)} is answered by \`${toMrkdwn(feature.key)}\` ${toMrkdwn(feature.title)}.${shipped}` };
}

/** Posted in the thread of the customer's message. Internal features are not named. */
export function requestShippedReply(request: CustomerRequestRow, feature: { title: string; customerVisible: boolean }): Message {
  const what = feature.customerVisible ? `*${toMrkdwn(toPlainText(feature.title))}*, which answers this request,` : 'The change that answers this request';
  return { text: `✅ Good news: ${what} has shipped. Thank you for asking! _(Reference ${requestKey(request.number)})_` };
}

export function staleRequestsNotice(service: string, days: number, requests: readonly CustomerRequestRow[]): Message {
  const lines = requests.slice(0, 20).map((request) => `• ${requestLink(request)} in <#${request.channel}>, tracked ${slackDate(request.createdAt, '{date_short_pretty}')}`);
  const more = requests.length > 20 ? [`…and ${requests.length - 20} more: \`/sprint requests service=${service}\``] : [];
  const text = [
    `🕰️ ${requests.length} customer ${requests.length === 1 ? 'request has' : 'requests have'} waited more than ${days} days for a feature in *${service}*:`,
    ...lines,
    ...more,
    'Link each to the feature that answers it (`/sprint link R-4 F-2`), so the customer hears when it ships.',
  ].join('\n');
  return { text: truncate(text, maxTextLength) };
}
