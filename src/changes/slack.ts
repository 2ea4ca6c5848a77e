import type { App, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { findService, serviceNames, serviceOfChannel } from '../catalog';
import { onFormFields } from '../slack/errors';
import { readBeforeAck } from '../slack/ack';
import { onActions, onViews } from '../slack/routing';
import { ephemeral, replyTo } from '../slack/replies';
import { type ActionArgs, type CommandArgs, readClick, type ViewArgs } from '../slack/listener-args';
import { fromCommandText } from '../slack/text';
import { readViewState } from '../slack/view-state';
import {
  changeActionIds,
  changeFieldIds,
  changeList,
  changeReference,
  changeViewIds,
  decisionLine,
  helpText,
  rejectModal,
  requestModal,
  voteCountedReply,
} from './blocks';
import { type ChangeRisk, type ChangeType, changeKey, changeRisks, changeTypes, noLongerPending, parseChangeCommand, voteRefusal } from './model';
import type { ChangeDeps } from './deps';
import { type ChangeRequest, requestChange } from './request';
import { cancelChange, markReviewed, recordVote } from './votes';
import * as store from './store';
import { calendarBlocks, gatherCalendar } from './calendar';
import { type PlannedWindow, parseWindow } from './windows';
import { isTimeZone } from '../time';

/** `/change`, the Approve and Reject buttons, and the change modals. */
export function register(app: App, deps: ChangeDeps): void {
  app.command('/change', (args) => onChangeCommand(deps, args));
  onActions(app, {
    [changeActionIds.approve]: (args) => onApprove(deps, args),
    [changeActionIds.reject]: (args) => onReject(deps, args),
  });
  onViews(app, {
    [changeViewIds.request]: (args) => onRequestSubmitted(deps, args),
    [changeViewIds.reject]: (args) => onRejectSubmitted(deps, args),
  });
}

async function onChangeCommand(deps: ChangeDeps, { command, ack, respond, client }: CommandArgs) {
  const parsed = parseChangeCommand(fromCommandText(command.text));
  switch (parsed.kind) {
    case 'help':
      return ack({ response_type: 'ephemeral', text: helpText });
    case 'invalid':
      return ack({ response_type: 'ephemeral', text: parsed.message });
    case 'open_modal':
      await ack();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: requestModal(deps.catalog, { service: parsed.service ?? serviceOfChannel(deps.catalog, command.channel_id) }),
      });
      return;
    case 'list': {
      if (parsed.service && !findService(deps.catalog, parsed.service)) {
        return ack({ response_type: 'ephemeral', text: `There is no service "${parsed.service}" to list. Known services: ${serviceNames(deps.catalog).join(', ') || 'none'}; \`/change list\` shows every open change.` });
      }
      // One query, answered in the ack itself: no second call to Slack.
      const listed = await readBeforeAck(store.listOpenChangesAndReviews(deps.db, 20, parsed.service), 'listing open changes');
      return ack(ephemeral(changeList(listed, parsed.service)));
    }
    case 'calendar': {
      if (parsed.service && !findService(deps.catalog, parsed.service)) {
        return ack({ response_type: 'ephemeral', text: `There is no service "${parsed.service}". Known services: ${serviceNames(deps.catalog).join(', ') || 'none'}.` });
      }
      await ack();
      const viewerTimeZone = await timeZoneOf(deps, client, command.user_id);
      const calendar = await gatherCalendar(deps.db, deps, { now: deps.clock.now(), viewerTimeZone, service: parsed.service });
      await respond({ response_type: 'ephemeral', text: `Change calendar${parsed.service ? ` of ${parsed.service}` : ''}`, blocks: calendarBlocks(calendar, 50) });
      return;
    }
    case 'cancel':
      await ack();
      return withChange(deps, parsed.number, respond, async (change) => {
        const cancelled = await cancelChange(deps, change.id, command.user_id);
        await respond(ephemeral(`${changeReference(cancelled)}: ${decisionLine(cancelled)}`));
      });
    case 'reviewed':
      await ack();
      return withChange(deps, parsed.number, respond, async (change) => {
        await markReviewed(deps, change.id, command.user_id);
        await respond(ephemeral(`${changeReference(change)}: review signed off.`));
      });
    case 'request': {
      await ack();
      if (parsed.type === 'emergency') {
        // An emergency needs its justification written down: ask for it in the form.
        await client.views.open({
          trigger_id: command.trigger_id,
          view: requestModal(deps.catalog, { service: parsed.service, title: parsed.title, type: 'emergency' }),
        });
        return;
      }
      let window: PlannedWindow | undefined;
      if (parsed.window) {
        // Times without an offset are the requester's wall-clock times: only then is Slack asked for their zone.
        const withOffsets = parsed.window.split('/').every((bound) => /(?:Z|[+-]\d{2}:\d{2})$/.test(bound));
        const read = parseWindow(parsed.window, withOffsets ? deps.timeZone : await timeZoneOf(deps, client, command.user_id));
        if ('problem' in read) return void (await respond(ephemeral(read.problem)));
        window = read;
      }
      const { change } = await requestChange(deps, {
        plannedStart: window?.start,
        plannedEnd: window?.end,
        service: parsed.service,
        title: parsed.title,
        type: parsed.type,
        risk: parsed.risk,
        environment: parsed.environment,
        ref: parsed.ref,
        requestedBy: command.user_id,
        requestKey: `slack:command:${command.trigger_id}`,
        notifyRequester: false,
      });
      await respond(ephemeral(requestOutcome(deps, change)));
    }
  }
}

/** The person's Slack time zone (users.info), or Tandem's when Slack does not say. */
async function timeZoneOf(deps: ChangeDeps, client: CommandArgs['client'], user: string): Promise<string> {
  try {
    const { user: info } = await client.users.info({ user });
    return info?.tz && isTimeZone(info.tz) ? info.tz : deps.timeZone;
  } catch (error) {
    deps.logger.warn({ err: error, user }, 'could not read the time zone of a user; using the default');
    return deps.timeZone;
  }
}

/** What the requester is told right away. */
function requestOutcome(deps: ChangeDeps, change: Awaited<ReturnType<typeof requestChange>>['change']): string {
  const subject = changeReference(change);
  const approvals = findService(deps.catalog, change.service)?.channels.approvals;
  switch (change.status) {
    case 'pending':
      return `Requested ${subject}: waiting for approval ${approvals ? `in <#${approvals}>` : 'from its approvers (sent to them directly)'}.${change.policy ? `\n🧮 ${change.policy.summary}` : ''}${
        change.conflicts.length > 0 && change.policy?.rule !== 'conflict' ? `\n⚠️ Conflicts: ${change.conflicts.map((conflict) => conflict.message).join('; ')}` : ''
      }`;
    case 'approved':
      return `${subject} is approved. 🧮 ${change.policy?.summary ?? ''}`.trim();
    default:
      return `${subject}: ${decisionLine(change)}`;
  }
}

async function withChange(
  deps: ChangeDeps,
  number: number,
  respond: RespondFn,
  run: (change: NonNullable<Awaited<ReturnType<typeof store.findChangeByNumber>>>) => Promise<void>,
) {
  const change = await store.findChangeByNumber(deps.db, number);
  if (!change) {
    await respond(ephemeral(`There is no ${changeKey(number)}.`));
    return;
  }
  await run(change);
}

/** Approve and Reject carry the change's id. */
const changeButton = z.uuid();

async function onApprove(deps: ChangeDeps, args: ActionArgs) {
  await args.ack();
  const click = readClick(args.body, changeButton);
  const outcome = await recordVote(deps, { changeId: click.value, voter: click.user, choice: 'approve' });
  await replyTo(args)(outcome.decided ? `You approved ${changeKey(outcome.change.number)}: it is now approved.` : voteCountedReply(outcome.change, outcome.progress));
}

/** Checks the clicker may reject before asking for a reason, so nobody writes one in vain. */
async function onReject(deps: ChangeDeps, args: ActionArgs) {
  await args.ack();
  const reply = replyTo(args);
  const click = readClick(args.body, changeButton);
  const change = await store.findChangeById(deps.db, click.value);
  if (!change) return void (await reply('That change no longer exists.'));
  const refusal = change.status !== 'pending' ? noLongerPending(change) : voteRefusal(deps.catalog, change, click.user);
  if (refusal) return void (await reply(refusal.message));
  await args.client.views.open({ trigger_id: click.triggerId, view: rejectModal(change) });
}

const rejectMetadata = z.object({ changeId: z.uuid() });

async function onRejectSubmitted(deps: ChangeDeps, { ack, view, body }: ViewArgs) {
  const state = readViewState(view);
  const metadata = state.metadata(rejectMetadata);
  const reason = state.text(changeFieldIds.reason);
  if (!metadata || !reason) {
    await ack({ response_action: 'errors', errors: { [changeFieldIds.reason]: metadata ? 'Say why you reject it.' : 'This form is out of date.' } });
    return;
  }
  await recordVote(deps, { changeId: metadata.changeId, voter: body.user.id, choice: 'reject', reason });
  await ack();
}

/** The request modal has no justification field: an emergency's justification is its description. */
const requestFormFields = { justification: changeFieldIds.description };

async function onRequestSubmitted(deps: ChangeDeps, { ack, view, body }: ViewArgs) {
  const state = readViewState(view);
  const service = state.selected(changeFieldIds.service);
  const title = state.text(changeFieldIds.title);
  const type = state.selected(changeFieldIds.type) as ChangeType | undefined;
  if (!service || !title || !type || !changeTypes.includes(type)) {
    const errors: Record<string, string> = {};
    if (!service) errors[changeFieldIds.service] = 'Choose the service to change.';
    if (!title) errors[changeFieldIds.title] = 'Give the change a title.';
    if (!type) errors[changeFieldIds.type] = 'Choose the type of change.';
    await ack({ response_action: 'errors', errors });
    return;
  }
  const risk = state.selected(changeFieldIds.risk);
  const request: ChangeRequest = {
    service,
    title,
    type,
    risk: changeRisks.includes(risk as ChangeRisk) ? (risk as ChangeRisk) : undefined,
    environment: state.text(changeFieldIds.environment)?.toLowerCase(),
    description: state.text(changeFieldIds.description),
    rollbackPlan: state.text(changeFieldIds.rollbackPlan),
    plannedStart: state.instant(changeFieldIds.plannedStart),
    plannedEnd: state.instant(changeFieldIds.plannedEnd),
    requestedBy: body.user.id,
    requestKey: `slack:view:${state.id}`,
    notifyRequester: false,
  };
  const { change } = await requestChange(deps, request).catch(onFormFields(requestFormFields));
  await ack();
  await deps.slack.chat.postMessage({ channel: body.user.id, text: requestOutcome(deps, change) });
}
