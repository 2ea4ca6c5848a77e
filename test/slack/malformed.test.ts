import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, incidents } from '../../src/db/schema';
import { signSlackRequest } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';
import { runTandem, serveFakeSlack, waitForOutput } from '../support/process';
import { form, postSigned, slackDeadlineMs, submissionOf } from './signed';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    approvers: { users: [U0APPROVER] }
    channels: { incidents: C0INCIDENTS }
`;

const alice = 'U0ALICE';
const json = 'application/json';

interface Hostile {
  name: string;
  body: (views: { change: string; declare: string }) => string;
  contentType?: string;
  status: number;
  /** What the answer must say, beyond its status. */
  answer?: (body: unknown) => void;
}

const block = (overrides: Record<string, unknown>) => ({
  type: 'block_actions',
  user: { id: alice, team_id: 'T0SANDBOX' },
  team: { id: 'T0SANDBOX' },
  trigger_id: '1.2.forged',
  actions: [{ action_id: 'incident.link_cause', value: 'x' }],
  ...overrides,
});

const event = (inner: unknown) => JSON.stringify({ type: 'event_callback', event_id: 'Ev0FORGED', team_id: 'T0SANDBOX', event: inner });

const hostile: Hostile[] = [
  { name: 'a JSON body of null', body: () => 'null', contentType: json, status: 400 },
  { name: 'a form body payload=null', body: () => form('null'), status: 400 },
  { name: 'a JSON array', body: () => '[]', contentType: json, status: 400 },
  { name: 'a JSON number', body: () => '42', contentType: json, status: 400 },
  { name: 'a JSON string', body: () => '"ssl_check"', contentType: json, status: 400 },
  { name: 'JSON that does not parse', body: () => '{"type":', contentType: json, status: 400 },
  { name: 'a payload that does not parse', body: () => form('{"type":'), status: 400 },
  { name: 'an empty JSON object', body: () => '{}', contentType: json, status: 200 },
  { name: 'a type Tandem does not handle', body: () => JSON.stringify({ type: 'app_rate_limited', minute_rate_limited: 1 }), contentType: json, status: 200 },
  { name: 'url_verification without a challenge', body: () => JSON.stringify({ type: 'url_verification' }), contentType: json, status: 400 },
  { name: 'an event of null', body: () => event(null), contentType: json, status: 400 },
  { name: 'an event whose user is null', body: () => event({ type: 'app_home_opened', user: null }), contentType: json, status: 400 },
  { name: 'an event whose item is a string', body: () => event({ type: 'reaction_added', user: alice, item: 'x' }), contentType: json, status: 400 },
  { name: 'an event with authorizations [null]', body: () => JSON.stringify({ type: 'event_callback', event: { type: 'x' }, authorizations: [null] }), contentType: json, status: 400 },
  { name: 'an event Tandem has no listener for', body: () => event({ type: 'emoji_changed', subtype: 'add' }), contentType: json, status: 200 },
  { name: 'a command without a user', body: () => new URLSearchParams({ command: '/incident', text: 'x', channel_id: 'C0GENERAL' }).toString(), status: 400 },
  { name: 'a command whose text is given twice', body: () => 'command=%2Fincident&text=a&text=b&user_id=U0ALICE&channel_id=C0GENERAL', status: 400 },
  { name: 'a command Tandem does not have', body: () => new URLSearchParams({ command: '/nope', text: '', user_id: alice, channel_id: 'C0GENERAL', trigger_id: '1.2.nope' }).toString(), status: 200 },
  { name: 'block_actions with actions: []', body: () => form(block({ actions: [] })), status: 400 },
  { name: 'block_actions with actions: [null]', body: () => form(block({ actions: [null] })), status: 400 },
  { name: 'block_actions without a user', body: () => form(block({ user: undefined })), status: 400 },
  { name: 'block_actions with user: null', body: () => form(block({ user: null })), status: 400 },
  { name: 'block_actions with an unknown action id', body: () => form(block({ actions: [{ action_id: 'nobody.knows', value: 'x' }] })), status: 200 },
  { name: 'a shortcut without a callback id', body: () => form({ type: 'message_action', user: { id: alice }, trigger_id: '1.2.x' }), status: 400 },
  { name: 'a message shortcut without its message', body: () => form({ type: 'message_action', callback_id: 'sprint.track_request', user: { id: alice }, trigger_id: '1.2.x' }), status: 200 },
  { name: 'block_suggestion without a user', body: () => form({ type: 'block_suggestion', action_id: 'value', value: 'x' }), status: 400 },
  { name: 'a view submission with view: null', body: () => form({ type: 'view_submission', user: { id: alice }, view: null }), status: 400 },
  {
    name: 'a view submission without state',
    body: (views) => form(submissionOf(t, alice, views.declare, undefined)),
    status: 200,
    answer: (body) => expect(JSON.stringify(body)).toContain('Slack sent this form without the contents Tandem needs, so nothing was saved.'),
  },
  {
    name: 'a view submission whose state is a string',
    body: (views) => form(submissionOf(t, alice, views.declare, 'state')),
    status: 200,
    answer: (body) => expect(body).toMatchObject({ response_action: 'errors', errors: { title: expect.stringContaining('nothing was saved') } }),
  },
  {
    name: 'a view submission whose title is a number',
    body: (views) => form(submissionOf(t, alice, views.declare, { values: { title: { value: { type: 'plain_text_input', value: 42 } } } })),
    status: 200,
    answer: (body) => expect(body).toMatchObject({ response_action: 'errors', errors: { title: expect.stringContaining('cannot read') } }),
  },
  {
    name: 'a view submission with selected_date_time: 1e20',
    body: (views) =>
      form(
        submissionOf(t, alice, views.change, {
          values: {
            service: { value: { type: 'static_select', selected_option: { value: 'payments' } } },
            title: { value: { type: 'plain_text_input', value: 'Forged window' } },
            type: { value: { type: 'static_select', selected_option: { value: 'normal' } } },
            planned_start: { value: { type: 'datetimepicker', selected_date_time: 1e20 } },
          },
        }),
      ),
    status: 200,
    answer: (body) => expect(body).toMatchObject({ response_action: 'errors' }),
  },
  { name: 'a body over 4 MB', body: () => `payload=${'x'.repeat(4 * 1024 * 1024 + 1)}`, status: 413 },
];

let t: Harness;

describe('signed but malformed Slack requests', () => {
  const views = { change: '', declare: '' };

  beforeAll(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice] });
      },
    });
    await t.simulator.command(alice, 'C0GENERAL', '/change');
    await t.simulator.command(alice, 'C0GENERAL', '/incident');
    await t.idle();
    const open = t.slack.openViews(alice);
    views.change = open.find((view) => view.view.callback_id === 'change.request')!.id;
    views.declare = open.find((view) => view.view.callback_id === 'incident.declare')!.id;
  });
  afterAll(() => t.stop());

  it.each(hostile)('answers $name with $status within 3 s and keeps serving', async ({ body, contentType, status, answer }) => {
    const reply = await postSigned(t, body(views), { contentType });
    expect(reply.status).toBe(status);
    expect(reply.ms).toBeLessThan(slackDeadlineMs);
    answer?.(reply.body);
    await t.idle();
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });

  it('answers Slack’s unsigned SSL check', async () => {
    const response = await fetch(`${t.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ssl_check=1&token=x',
    });
    expect(response.status).toBe(200);
  });

  it('recorded nothing from any of them, and still serves a real command', async () => {
    expect(await t.database.handle.db.select().from(incidents)).toHaveLength(0);
    expect(await t.database.handle.db.select().from(changes)).toHaveLength(0);
    const answer = await t.simulator.command(alice, 'C0GENERAL', '/incident', 'Checkout failing service=payments');
    expect(answer.status).toBe(200);
    await t.idle();
    expect(await t.database.handle.db.select().from(incidents)).toHaveLength(1);
  });
});

describe('a Tandem process sent the bodies that used to end it', () => {
  it('answers JSON null and payload=null with 400 and keeps running', async () => {
    const fake = await serveFakeSlack();
    const secret = 'process-malformed-secret';
    const running = runTandem('src/main.ts', [], {
      SLACK_BOT_TOKEN: fake.slack.botToken,
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: fake.slack.apiUrl,
      TANDEM_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tandem-data-')),
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const [, port] = await waitForOutput(running, /"port":(\d+).*"msg":"tandem is serving"/, 45_000);
      const base = `http://127.0.0.1:${port}`;
      for (const [body, contentType] of [
        ['null', json],
        [form('null'), 'application/x-www-form-urlencoded'],
      ] as const) {
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(`${base}/slack/events`, {
          method: 'POST',
          headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(secret, timestamp, body) },
          body,
          signal: AbortSignal.timeout(slackDeadlineMs),
        });
        expect(response.status).toBe(400);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(running.child.exitCode).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      running.child.kill('SIGTERM');
      await running.finished;
      await fake.close();
    }
  }, 60_000);
});
