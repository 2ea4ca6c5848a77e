import type { App, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { serviceOfChannel } from '../catalog';
import { findChangeByNumber, listRecentChanges } from '../changes/store';
import type { ModalView } from '../slack/blocks';
import { type ActionArgs, type CommandArgs, readClick, type ViewArgs } from '../slack/listener-args';
import { ephemeral } from '../slack/replies';
import { onActions, onEvents, onViews } from '../slack/routing';
import { fromCommandText } from '../slack/text';
import { readViewState, type ViewState } from '../slack/view-state';
import { declaredReply, fieldIds, followUpsList, helpText, incidentActionIds, incidentViewIds, problemCreatedReply } from './blocks';
import { slackErrorCode } from '../slack/errors';
import { commanderModal, declareModal, followUpModal, linkCauseModal, resolveModal, severityModal, statusModal, updateModal } from './modal-blocks';
import { type IncidentCommand, incidentKey, isResolved, parseIncidentCommand, parseSeverity, parseStatus } from './model';
import { linkCause } from './cause';
import { catchUp } from './catchup';
import { conversationEvents, timelineActions, timelineOf } from './conversation';
import { declareIncident } from './declare';
import type { IncidentDeps } from './deps';
import { createFollowUp, setFollowUpState } from './follow-ups';
import { linkAsCauseActionId, linkListedCause } from './recent-changes';
import { assignCommander, changeSeverity, changeStatus, postUpdate, resolveIncident } from './lifecycle';
import * as store from './store';
import { reminderActions } from './reminder-slack';
import { assignRole } from './roles';
import { openSwarm, retrySwarmNow } from './swarm';

/** `/incident`, the pinned summary's and the reminders' buttons, the incident modals and the channel's events. */
export function register(app: App, deps: IncidentDeps): void {
  app.command('/incident', (args) => onIncidentCommand(deps, args));

  const modalButtons: Array<[string, (incident: Parameters<typeof statusModal>[0]) => ModalView, boolean]> = [
    [incidentActionIds.status, statusModal, true],
    [incidentActionIds.severity, severityModal, true],
    [incidentActionIds.commander, commanderModal, true],
    [incidentActionIds.update, updateModal, true],
    [incidentActionIds.resolve, resolveModal, true],
    [incidentActionIds.followUp, followUpModal, false],
  ];
  onActions(app, {
    ...Object.fromEntries(
      modalButtons.map(([actionId, view, needsOpenIncident]) => [actionId, (args: ActionArgs) => openIncidentModal(deps, args, view, needsOpenIncident)]),
    ),
    [incidentActionIds.retrySetup]: (args) => onRetrySetup(deps, args),
    [incidentActionIds.linkCause]: (args) => onLinkCause(deps, args),
    [linkAsCauseActionId]: (args) => onLinkAsCause(deps, args),
    [incidentActionIds.followUpDone]: (args) => onFollowUpState(deps, args, 'done'),
    [incidentActionIds.followUpWontDo]: (args) => onFollowUpState(deps, args, 'wont-do'),
    ...reminderActions(deps),
    ...timelineActions(deps),
  });

  onViews(app, {
    [incidentViewIds.declare]: (args) => onDeclareSubmitted(deps, args),
    [incidentViewIds.status]: (args) =>
      submitChange(args, fieldIds.status, (state, incidentId, user) => {
        const status = parseStatus(state.selected(fieldIds.status) ?? '');
        if (!status || status === 'resolved') return 'Choose a status.';
        return changeStatus(deps, incidentId, user, status, state.text(fieldIds.note));
      }),
    [incidentViewIds.severity]: (args) =>
      submitChange(args, fieldIds.severity, (state, incidentId, user) => {
        const severity = parseSeverity(state.selected(fieldIds.severity) ?? '');
        if (!severity) return 'Choose a severity.';
        return changeSeverity(deps, incidentId, user, severity);
      }),
    [incidentViewIds.commander]: (args) =>
      submitChange(args, fieldIds.commander, (state, incidentId, user) => {
        const commander = state.user(fieldIds.commander);
        if (!commander) return 'Choose the incident commander.';
        return assignCommander(deps, incidentId, user, commander);
      }),
    [incidentViewIds.update]: (args) =>
      submitChange(args, fieldIds.text, (state, incidentId, user) => {
        const text = state.text(fieldIds.text);
        if (!text) return 'Write the update.';
        return postUpdate(deps, incidentId, user, text);
      }),
    [incidentViewIds.resolve]: (args) =>
      submitChange(args, fieldIds.summary, (state, incidentId, user) => {
        const summary = state.text(fieldIds.summary);
        if (!summary) return 'Say what restored service.';
        return resolveIncident(deps, incidentId, user, summary);
      }),
    [incidentViewIds.linkCause]: (args) =>
      submitChange(args, fieldIds.change, async (state, incidentId, user) => {
        const number = Number(state.selected(fieldIds.change));
        const change = Number.isInteger(number) ? await findChangeByNumber(deps.db, number) : undefined;
        if (!change) return 'Choose the change that caused it.';
        await linkCause(deps, incidentId, change.id, user);
        return undefined;
      }),
    [incidentViewIds.followUp]: (args) =>
      submitChange(args, fieldIds.title, async (state, incidentId, user) => {
        const title = state.text(fieldIds.title);
        if (!title) return 'Give the follow-up a title.';
        const owner = state.user(fieldIds.owner);
        if (owner && !(await isPerson(deps, owner))) return 'Choose a person as the owner, not an app.';
        const { problem, incident, placement } = await createFollowUp(deps, {
          incidentId,
          actor: user,
          title,
          owner,
          description: state.text(fieldIds.description),
          requestKey: `slack:view:${state.id}`,
        });
        deps.background.run(() => deps.slack.chat.postMessage({ channel: user, ...problemCreatedReply(problem, incident, placement) }));
        return undefined;
      }),
  });

  onEvents(app, conversationEvents(deps));
}

async function onIncidentCommand(deps: IncidentDeps, { command, ack, respond, client }: CommandArgs) {
  const parsed = parseIncidentCommand(fromCommandText(command.text));
  switch (parsed.kind) {
    case 'help':
      return ack({ response_type: 'ephemeral', text: helpText });
    case 'invalid':
      return ack({ response_type: 'ephemeral', text: parsed.message });
    case 'open_modal':
      await ack();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: declareModal(deps.catalog, { service: serviceOfChannel(deps.catalog, command.channel_id) }),
      });
      return;
    case 'declare': {
      await ack();
      const { incident, notes } = await declareIncident(deps, {
        title: parsed.title,
        severity: parsed.severity,
        service: parsed.service ?? serviceOfChannel(deps.catalog, command.channel_id),
        private: parsed.private,
        actor: command.user_id,
        invite: parsed.invite,
        requestKey: `slack:command:${command.trigger_id}`,
      });
      const swarm = await openSwarm(deps, incident.id);
      await respond({ response_type: 'ephemeral', ...declaredReply(swarm.incident, swarm.report, notes) });
      return;
    }
    default:
      await ack();
      await runInIncidentChannel(deps, command, respond, parsed);
  }
}

/** Subcommands act on the incident whose channel they are typed in. */
async function runInIncidentChannel(
  deps: IncidentDeps,
  command: CommandArgs['command'],
  respond: RespondFn,
  parsed: Exclude<IncidentCommand, { kind: 'help' | 'invalid' | 'open_modal' | 'declare' }>,
) {
  const incident = await store.findIncidentByChannel(deps.db, command.channel_id);
  if (!incident) {
    await respond(ephemeral(await notAnIncidentChannel(deps, parsed.kind)));
    return;
  }
  const user = command.user_id;
  switch (parsed.kind) {
    case 'severity':
      await changeSeverity(deps, incident.id, user, parsed.severity);
      break;
    case 'status':
      await changeStatus(deps, incident.id, user, parsed.status);
      break;
    case 'commander':
      await assignCommander(deps, incident.id, user, parsed.user === 'me' ? user : parsed.user);
      break;
    case 'role':
      await assignRole(deps, incident.id, user, parsed.role, parsed.user === 'me' ? user : parsed.user);
      break;
    case 'update':
      await postUpdate(deps, incident.id, user, parsed.text);
      break;
    case 'resolve':
      await resolveIncident(deps, incident.id, user, parsed.summary);
      break;
    case 'link': {
      const change = await findChangeByNumber(deps.db, parsed.change);
      if (!change) {
        await respond(ephemeral(`There is no CHG-${parsed.change}. \`/change list\` shows open changes.`));
        return;
      }
      await linkCause(deps, incident.id, change.id, user);
      break;
    }
    case 'followup': {
      if (parsed.owner && !(await isPerson(deps, parsed.owner))) {
        await respond(ephemeral(`<@${parsed.owner}> cannot own a follow-up: name a person in this workspace.`));
        return;
      }
      const { problem, placement } = await createFollowUp(deps, {
        incidentId: incident.id,
        actor: user,
        title: parsed.title,
        owner: parsed.owner,
        requestKey: `slack:command:${command.trigger_id}`,
      });
      await respond(ephemeral(problemCreatedReply(problem, incident, placement).text));
      return;
    }
    case 'followups':
      await respond({ response_type: 'ephemeral', ...followUpsList(incident, await store.listProblems(deps.db, incident.id)) });
      return;
    // Both answer only inside the incident's channel (found by it above), so a private incident's record stays there.
    case 'timeline':
      await respond({ response_type: 'ephemeral', ...(await timelineOf(deps, incident, parsed.page)) });
      break;
    case 'catchup':
      await respond({ response_type: 'ephemeral', ...(await catchUp(deps, incident)) });
      break;
  }
}

/** A person who may own a follow-up: someone Slack knows, not an app and not deactivated. */
async function isPerson(deps: IncidentDeps, user: string): Promise<boolean> {
  if (user === deps.botUserId) return false;
  try {
    const info = await deps.slack.users.info({ user });
    return Boolean(info.user && !info.user.is_bot && !info.user.deleted);
  } catch (error) {
    if (slackErrorCode(error) === 'user_not_found') return false;
    throw error;
  }
}

/** **Link as cause** carries the listed change's reference. */
const listedChange = z.string();

/** **Link as cause** on the declaration's list of recent changes. */
async function onLinkAsCause(deps: IncidentDeps, { ack, body, respond }: ActionArgs) {
  await ack();
  const click = readClick(body, listedChange);
  const incident = await linkListedCause(deps, click.value, click.user);
  await respond(ephemeral(`Linked as the cause of ${incidentKey(incident.number)}.`));
}

/** **Done** / **Won't do** on a follow-up list: only from the incident's channel, once. */
async function onFollowUpState(deps: IncidentDeps, { ack, body, respond }: ActionArgs, state: 'done' | 'wont-do') {
  await ack();
  const click = readClick(body, incidentButton);
  const channel = (body as { channel?: { id?: string } }).channel?.id;
  const { incident } = await setFollowUpState(deps, { problemId: click.value, actor: click.user, state, channel });
  await respond({ response_type: 'ephemeral', replace_original: true, ...followUpsList(incident, await store.listProblems(deps.db, incident.id)) });
}

async function notAnIncidentChannel(deps: IncidentDeps, kind: string): Promise<string> {
  const open = await store.listOpenIncidents(deps.db, 5);
  const word = kind === 'severity' ? 'sev' : kind;
  const list = open
    // Private incidents are named only inside their own channel.
    .filter((incident) => incident.channelId && !incident.private)
    .map((incident) => `• ${incidentKey(incident.number)} <#${incident.channelId}>`)
    .join('\n');
  return `\`/incident ${word}\` works inside an incident channel, and this is not one.${
    list ? `\nOpen incidents:\n${list}` : ' There are no open incidents; declare one with `/incident <title>`.'
  }`;
}

/** Every incident button carries the incident's id. */
const incidentButton = z.uuid();

async function openIncidentModal(
  deps: IncidentDeps,
  { ack, body, client, respond }: ActionArgs,
  view: (incident: NonNullable<Awaited<ReturnType<typeof store.findIncidentById>>>) => ModalView,
  needsOpenIncident: boolean,
) {
  await ack();
  const click = readClick(body, incidentButton);
  const incident = await store.findIncidentById(deps.db, click.value);
  if (!incident) {
    await respond(ephemeral('That incident no longer exists.'));
    return;
  }
  if (needsOpenIncident && isResolved(incident)) {
    await respond(ephemeral(`${incidentKey(incident.number)} is already resolved, so there is nothing to change.`));
    return;
  }
  await client.views.open({ trigger_id: click.triggerId, view: view(incident) });
}

async function onLinkCause(deps: IncidentDeps, { ack, body, respond, client }: ActionArgs) {
  await ack();
  const click = readClick(body, incidentButton);
  const incident = await store.findIncidentById(deps.db, click.value);
  if (!incident) return void (await respond(ephemeral('That incident no longer exists.')));
  const candidates = await listRecentChanges(deps.db, incident.service, 25);
  if (candidates.length === 0) {
    const scope = incident.service ? `of ${incident.service} ` : '';
    return void (await respond(ephemeral(`There are no approved or deployed changes ${scope}to link. Use \`/incident link CHG-n\` for another one.`)));
  }
  await client.views.open({ trigger_id: click.triggerId, view: linkCauseModal(incident, candidates) });
}

async function onRetrySetup(deps: IncidentDeps, { ack, body, respond }: ActionArgs) {
  await ack();
  const swarm = await retrySwarmNow(deps, readClick(body, incidentButton).value);
  await respond({ response_type: 'ephemeral', replace_original: true, ...declaredReply(swarm.incident, swarm.report) });
}

async function onDeclareSubmitted(deps: IncidentDeps, { ack, view, body }: ViewArgs) {
  const state = readViewState(view);
  const title = state.text(fieldIds.title);
  if (!title) {
    await ack({ response_action: 'errors', errors: { [fieldIds.title]: 'Give the incident a title.' } });
    return;
  }
  const user = body.user.id;
  const declared = await declareIncident(deps, {
    title,
    severity: state.selected(fieldIds.severity),
    service: state.selected(fieldIds.service),
    description: state.text(fieldIds.description),
    private: state.checked(fieldIds.private).includes('private'),
    actor: user,
    requestKey: `slack:view:${state.id}`,
  });
  await ack();
  const swarm = await openSwarm(deps, declared.incident.id);
  // The modal is gone, so the outcome goes to the declarer's DM with Tandem.
  await deps.slack.chat.postMessage({ channel: user, ...declaredReply(swarm.incident, swarm.report, declared.notes) });
}

const incidentMetadata = z.object({ incidentId: z.uuid() });

/**
 * Runs a modal's change before acknowledging it, so a refusal ("already resolved")
 * shows on the form (the shared error path puts it on the first field). `apply`
 * returns a message for the field when the input is incomplete.
 */
async function submitChange(
  { ack, view, body }: ViewArgs,
  fieldId: string,
  apply: (state: ViewState, incidentId: string, user: string) => Promise<unknown> | string | undefined,
) {
  const state = readViewState(view);
  const metadata = state.metadata(incidentMetadata);
  if (!metadata) {
    await ack({ response_action: 'errors', errors: { [fieldId]: 'This form is out of date; close it and use the button again.' } });
    return;
  }
  const outcome = await apply(state, metadata.incidentId, body.user.id);
  if (typeof outcome === 'string') {
    await ack({ response_action: 'errors', errors: { [fieldId]: outcome } });
    return;
  }
  await ack();
}
