import { z } from 'zod';
import { type ActionArgs, readClick } from '../slack/listener-args';
import type { ActionHandlers } from '../slack/routing';
import { conflict } from '../errors';
import type { IncidentDeps } from './deps';
import { requireIncident } from './lookup';
import { incidentKey } from './model';
import { assignCommander } from './lifecycle';
import { reminderActionIds, snoozeChoices, snoozedMessage } from './reminder-blocks';
import { snoozeUpdateReminder } from './reminders';

/** The buttons of the reminders: **I'll take command** and **Snooze**. **Post update** and **Resolve** are the summary's own actions. */
export function reminderActions(deps: IncidentDeps): ActionHandlers {
  return {
    [reminderActionIds.takeCommand]: (args) => onTakeCommand(deps, args),
    ...Object.fromEntries(snoozeChoices.map((choice) => [choice.actionId, (args: ActionArgs) => onSnooze(deps, args, choice.minutes)])),
  };
}

/** **I'll take command** carries the incident's id. */
const incidentButton = z.uuid();

async function onTakeCommand(deps: IncidentDeps, { ack, body, respond }: ActionArgs) {
  await ack();
  const click = readClick(body, incidentButton);
  const current = await requireIncident(deps.db, click.value);
  // The question was answered already: a second volunteer does not take command from the first.
  if (current.commander) {
    throw conflict('unchanged', `<@${current.commander}> already commands ${incidentKey(current.number)}. \`/incident commander @person\` hands it over.`);
  }
  const incident = await assignCommander(deps, click.value, click.user, click.user);
  await respond({ replace_original: true, text: `🧭 <@${click.user}> took command of *${incidentKey(incident.number)}*.` });
}

/** `<incident id>|<due time in ms>`: the reminder the snooze answers. */
const snoozeButton = z
  .string()
  .regex(/^[0-9a-f-]{36}\|\d+$/)
  .transform((value) => {
    const [incidentId, dueAt] = value.split('|') as [string, string];
    return { incidentId, reminderDueAt: new Date(Number(dueAt)) };
  })
  .pipe(z.object({ incidentId: z.uuid(), reminderDueAt: z.date() }));

async function onSnooze(deps: IncidentDeps, { ack, body, respond }: ActionArgs, minutes: number) {
  await ack();
  const click = readClick(body, snoozeButton);
  const { incident, until } = await snoozeUpdateReminder(deps, { ...click.value, user: click.user, minutes });
  await respond({ replace_original: true, ...snoozedMessage(incident, click.user, until, minutes) });
}
