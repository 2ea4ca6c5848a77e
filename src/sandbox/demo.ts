import type { FakeChannel, FakeSlack } from '../fake-slack';
import { dayMs } from '../time';

/**
 * The sandbox's demo: a small company with two services, the people who own and
 * approve them, their channels and a customer channel, so every feature can be
 * reached from the first screen. Everything here is data; the sandbox feeds it to
 * the stand-in Slack and to Tandem as a real workspace and catalog would.
 */

const people = {
  alex: 'U0ALEX',
  priya: 'U0PRIYA',
  sam: 'U0SAM',
  mei: 'U0MEI',
  jordan: 'U0JORDAN',
  tara: 'U0TARA',
} as const;

const channels = {
  general: 'C0GENERAL',
  incidents: 'C0INCIDENTS',
  approvals: 'C0APPROVALS',
  acme: 'C0ACME',
} as const;

/** The catalog Tandem reads, written to the sandbox's data directory as tandem.yaml. */
export const demoCatalog = `# The Tandem sandbox's demo catalog (see tandem.example.yaml for every key).
services:
  payments:
    description: Card payments and payouts; Acme Corp relies on it
    owners: [${people.priya}]
    oncall: [${people.sam}]
    approvers: { groups: [payments-leads], quorum: 2 }
    channels: { incidents: ${channels.incidents}, approvals: ${channels.approvals}, customers: [${channels.acme}] }
    default_severity: 2
  search:
    description: Product search
    owners: [${people.mei}]
    approvers: { users: [${people.mei}, ${people.priya}] }
    channels: { incidents: ${channels.incidents}, approvals: ${channels.approvals} }
groups:
  payments-leads: [${people.priya}, ${people.sam}, ${people.mei}]
sprints: { length_days: 14, starts_on: "2026-01-05" }
`;

export interface DemoPerson {
  id: string;
  name: string;
  realName: string;
  /** What they do, shown in the page's person picker beside their catalog roles. */
  title: string;
}

export const demoPeople: DemoPerson[] = [
  { id: people.alex, name: 'alex', realName: 'Alex Rivera', title: 'Developer' },
  { id: people.priya, name: 'priya', realName: 'Priya Shah', title: 'Payments lead' },
  { id: people.sam, name: 'sam', realName: 'Sam Okafor', title: 'Site reliability engineer' },
  { id: people.mei, name: 'mei', realName: 'Mei Chen', title: 'Search lead' },
  { id: people.jordan, name: 'jordan', realName: 'Jordan Lee', title: 'Customer success' },
  { id: people.tara, name: 'tara', realName: 'Tara Novak', title: 'Customer at Acme Corp' },
];

const team = [people.alex, people.priya, people.sam, people.mei, people.jordan];

const demoChannels: Array<{ id: string; name: string; purpose: string; members: string[] }> = [
  { id: channels.general, name: 'general', purpose: 'Everyone at the company', members: team },
  { id: channels.incidents, name: 'incidents', purpose: 'Every incident of payments and search is announced here', members: team },
  { id: channels.approvals, name: 'change-approvals', purpose: 'Change requests for payments and search, with Approve and Reject', members: team },
  { id: channels.acme, name: 'acme-customer', purpose: 'Shared with Acme Corp: incident notices and sprint digests', members: [people.priya, people.jordan, people.tara] },
];

/** Who the page shows first, and where. */
export const demoStart = { person: people.alex, channel: channels.general };

export function seedDemoWorkspace(slack: FakeSlack): void {
  for (const person of demoPeople) slack.addUser({ id: person.id, name: person.name, realName: person.realName });
  for (const channel of demoChannels) slack.addChannel({ id: channel.id, name: channel.name, members: channel.members });
}

export interface DemoStep {
  person: string;
  channel: string;
  /** Typed into the channel's composer: a slash command, or a message. */
  text: string;
}

/**
 * Demo data made by Tandem itself, typed as people would type it: a change waiting
 * for its two approvals, an open incident with its swarm channel, and a sprint whose
 * digest Acme Corp follows, with a customer's question to track.
 */
export function demoActivity(today: Date): DemoStep[] {
  const day = (offset: number) => new Date(today.getTime() + offset * dayMs).toISOString().slice(0, 10);
  const priyaInAcme = (text: string) => ({ person: people.priya, channel: channels.acme, text });
  return [
    { person: people.alex, channel: channels.general, text: '/change payments Rotate card-vault keys env=production ref=v2.3.1' },
    { person: people.mei, channel: channels.incidents, text: '/incident Search results time out for long queries service=search sev=3' },
    priyaInAcme('/sprint subscribe #acme-customer'),
    priyaInAcme(`/sprint start Sprint 1 ${day(0)} ${day(13)}`),
    priyaInAcme('/sprint add Export invoices as PDF'),
    priyaInAcme('/sprint add internal Upgrade Postgres'),
    priyaInAcme('/sprint status F-1 in-dev'),
    { person: people.tara, channel: channels.acme, text: 'Could you add CSV export for payouts?' },
  ];
}

export interface Suggestion {
  label: string;
  text: string;
}

const everywhere: Suggestion[] = [
  { label: 'Declare an incident', text: '/incident Checkout returns 500s service=payments' },
  { label: 'Incident form', text: '/incident' },
  { label: 'Request a change', text: '/change payments Deploy checkout v2.4 env=production' },
  { label: 'Change form', text: '/change' },
  { label: 'Open changes', text: '/change list' },
  { label: 'Help', text: '/incident help' },
];

const inIncidentChannel: Suggestion[] = [
  { label: 'Status: identified', text: '/incident status identified' },
  { label: 'Make me commander', text: '/incident commander me' },
  { label: 'Post an update', text: '/incident update Rolling back the last deploy' },
  { label: 'Raise severity', text: '/incident sev 1' },
  { label: 'Resolve', text: '/incident resolve Rolled back; error rate is normal again' },
];

const inCustomerChannel: Suggestion[] = [
  { label: 'Sprint digest', text: '/sprint show' },
  { label: 'Add a feature', text: '/sprint add Refunds in one click' },
  { label: 'Feature done', text: '/sprint status F-1 done' },
  { label: 'Ask as a customer', text: 'Could refunds take one click instead of three?' },
];

/** What to try in a channel, offered above the composer. Incident channels are named inc-… by Tandem. */
export function suggestionsFor(channel: FakeChannel): Suggestion[] {
  if (channel.name.startsWith('inc-')) return inIncidentChannel;
  return channel.id === channels.acme ? inCustomerChannel : everywhere;
}

export function purposeOf(channel: FakeChannel): string {
  return demoChannels.find((candidate) => candidate.id === channel.id)?.purpose ?? '';
}
