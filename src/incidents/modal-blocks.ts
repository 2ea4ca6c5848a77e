import type { Catalog } from '../catalog';
import { serviceNames } from '../catalog';
import type { IncidentRow } from '../db/schema';
import { type Block, checkboxInput, modal, type ModalView, option, section, selectInput, textInput, userInput } from '../slack/blocks';
import { toPlainText } from '../slack/text';
import { incidentStatuses, maxTitleLength, type Severity, severities } from './model';
import { fieldIds, incidentViewIds, reference, statusLabels } from './blocks';

/** The incident modals: declare, and one per change to an open incident. */

/** The longest text Slack lets a plain-text input hold. */
const slackInputLimit = 3000;

export function declareModal(catalog: Catalog, defaults: { service?: string; title?: string } = {}): ModalView {
  const services = serviceNames(catalog);
  const blocks: Block[] = [
    // Slack's maximum, not the title's: Tandem shortens a long title itself, so nobody in an outage is stopped by a counter.
    textInput(fieldIds.title, 'Title', {
      maxLength: slackInputLimit,
      initial: defaults.title,
      placeholder: 'What is broken, for whom?',
      hint: `A title over ${maxTitleLength} characters is shortened; its whole text opens the description.`,
    }),
    selectInput(fieldIds.severity, 'Severity', severityChoices, {
      optional: true,
      hint: 'Leave empty for the service’s default (SEV3 without one).',
    }),
  ];
  if (services.length > 0) {
    blocks.push(
      selectInput(fieldIds.service, 'Service', services.map((service) => option(service, service)), {
        optional: true,
        initial: defaults.service,
        hint: 'Its on-call and owners are invited, and its channels are told.',
      }),
    );
  }
  blocks.push(
    textInput(fieldIds.description, 'Description', { multiline: true, optional: true, maxLength: slackInputLimit }),
    checkboxInput(fieldIds.private, 'Visibility', option('Private channel (security or sensitive incidents)', 'private')),
  );
  return modal(incidentViewIds.declare, 'Declare an incident', blocks, 'Declare');
}

const severityDescriptions: Record<Severity, string> = {
  1: 'SEV1 · critical, customers blocked',
  2: 'SEV2 · major, degraded for many',
  3: 'SEV3 · minor, workaround exists',
  4: 'SEV4 · low, cosmetic or internal',
};

const severityChoices = severities.map((severity) => option(severityDescriptions[severity], String(severity)));

/** A modal about one incident: its name on top, the incident id in private_metadata. */
function incidentModal(
  incident: IncidentRow,
  callbackId: string,
  title: string,
  submit: string,
  inputs: Block[],
  intro = '',
): ModalView {
  return modal(callbackId, title, [section(`${reference(incident)}${intro ? `\n${intro}` : ''}`), ...inputs], submit, {
    incidentId: incident.id,
  });
}

export function statusModal(incident: IncidentRow): ModalView {
  const choices = incidentStatuses.filter((status) => status !== 'resolved').map((status) => option(statusLabels[status], status));
  return incidentModal(incident, incidentViewIds.status, 'Update status', 'Update', [
    selectInput(fieldIds.status, 'Status', choices, { initial: incident.status }),
    textInput(fieldIds.note, 'What changed?', { multiline: true, optional: true, maxLength: slackInputLimit }),
  ]);
}

export function severityModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.severity, 'Change severity', 'Change', [
    selectInput(fieldIds.severity, 'Severity', severityChoices, { initial: String(incident.severity) }),
  ]);
}

export function commanderModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.commander, 'Assign commander', 'Assign', [
    userInput(fieldIds.commander, 'Incident commander', { initial: incident.commander ?? undefined }),
  ]);
}

export function updateModal(incident: IncidentRow): ModalView {
  return incidentModal(
    incident,
    incidentViewIds.update,
    'Post update',
    'Post',
    [textInput(fieldIds.text, 'Update', { multiline: true, maxLength: slackInputLimit })],
    'Stakeholders and, for customer-facing services, customers see this update.',
  );
}

export function resolveModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.resolve, 'Resolve incident', 'Resolve', [
    textInput(fieldIds.summary, 'Resolution summary', {
      multiline: true,
      maxLength: slackInputLimit,
      placeholder: 'What restored service? What is left to do?',
    }),
  ]);
}

export function followUpModal(incident: IncidentRow): ModalView {
  return incidentModal(
    incident,
    incidentViewIds.followUp,
    'Create follow-up',
    'Create',
    [
      // A private incident's title would travel with the follow-up into the sprint, so it is not offered as one.
      textInput(fieldIds.title, 'Title', {
        ...(incident.private ? {} : { initial: `Follow-up: ${toPlainText(incident.title)}`.slice(0, maxTitleLength) }),
        maxLength: maxTitleLength,
      }),
      userInput(fieldIds.owner, 'Owner', { optional: true }),
      textInput(fieldIds.description, 'What should change?', { multiline: true, optional: true, maxLength: slackInputLimit }),
    ],
    'A problem record captures the underlying cause so the fix gets planned.',
  );
}

/** Picks the change that caused the incident among the service's recent ones. */
export function linkCauseModal(incident: IncidentRow, candidates: Array<{ number: number; title: string; status: string }>): ModalView {
  return incidentModal(incident, incidentViewIds.linkCause, 'Link cause', 'Link', [
    selectInput(
      fieldIds.change,
      'Change that caused it',
      candidates.map((change) => option(`CHG-${change.number} · ${toPlainText(change.title)} (${change.status})`, String(change.number))),
      { hint: 'The change will count as failed in the change success rate.' },
    ),
  ]);
}

