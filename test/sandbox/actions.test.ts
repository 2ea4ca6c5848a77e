import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkspaceActions } from '../../src/sandbox/actions';
import { LiveWorkspace } from '../../src/sandbox/live-workspace';
import type { AppManifest } from '../../src/sandbox/manifest';
import { signSlackRequest, SlackSimulator } from '../../src/fake-slack';

const signingSecret = 'actions-test-secret';
const person = 'U0ANN';

/** An app that subscribes to what the page supports beyond what Tandem uses today: a message shortcut and the Home tab. */
const manifest: AppManifest = {
  name: 'Demo',
  commands: [{ command: '/demo', description: 'Try it', usageHint: '', shouldEscape: true }],
  messageShortcuts: [{ name: 'Track it', callbackId: 'demo.track', description: 'Tracks the message' }],
  homeTabEnabled: true,
  botEvents: ['app_home_opened'],
  botScopes: [],
};

describe('what a person does in the sandbox, as the app receives it', () => {
  let app: Server;
  let received: Array<{ payload: any; signed: boolean }>;
  let status: number;
  let slack: LiveWorkspace;
  let actions: WorkspaceActions;

  beforeAll(async () => {
    // Stands in for the app: records each request, whether its signature holds, and answers with `status`.
    app = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const timestamp = Number(req.headers['x-slack-request-timestamp']);
        const signed = req.headers['x-slack-signature'] === signSlackRequest(signingSecret, timestamp, body);
        const form = new URLSearchParams(body);
        received.push({ payload: form.has('payload') ? JSON.parse(form.get('payload')!) : req.headers['content-type']?.includes('json') ? JSON.parse(body) : Object.fromEntries(form), signed });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => app.close(() => resolve())));

  beforeEach(() => {
    received = [];
    status = 200;
    slack = new LiveWorkspace({ origin: 'http://slack.test' });
    slack.addUser({ id: person, name: 'ann' });
    slack.addChannel({ id: 'C0TEAM', name: 'team', members: [person] });
    const requestUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`;
    actions = new WorkspaceActions(slack, new SlackSimulator(slack, { requestUrl, signingSecret }), manifest);
  });

  it('uses a message shortcut the manifest declares', async () => {
    const message = slack.post('C0TEAM', { text: 'Please add CSV export', user: person });
    expect(await actions.useShortcut(person, 'C0TEAM', message.ts, 'demo.track')).toEqual({});
    expect(received).toEqual([
      {
        signed: true,
        payload: expect.objectContaining({ type: 'message_action', callback_id: 'demo.track', message_ts: message.ts, channel: { id: 'C0TEAM', name: 'team' } }),
      },
    ]);
  });

  it('tells the app the Home tab was opened, and clicks on the Home tab it published', async () => {
    expect(await actions.openHome(person)).toEqual({});
    expect(received[0]).toMatchObject({ signed: true, payload: { type: 'event_callback', event: { type: 'app_home_opened', user: person, tab: 'home' } } });

    slack.homes.set(person, {
      type: 'home',
      blocks: [{ type: 'actions', block_id: 'home', elements: [{ type: 'button', action_id: 'home.refresh', text: { type: 'plain_text', text: 'Refresh' }, value: 'now' }] }],
    });
    expect(await actions.click(person, { home: true }, 'home.refresh')).toEqual({});
    expect(received[1]?.payload).toMatchObject({
      type: 'block_actions',
      user: { id: person },
      container: { type: 'view', view_id: `VHOME${person}` },
      view: { type: 'home', id: `VHOME${person}` },
      actions: [{ action_id: 'home.refresh', block_id: 'home', value: 'now' }],
    });
  });

  it('says so when the app does not answer with success, as Slack does', async () => {
    status = 500;
    expect(await actions.send(person, 'C0TEAM', '/demo go')).toEqual({ problem: '/demo failed: Tandem answered HTTP 500.' });
    const message = slack.post('C0TEAM', { text: 'Hi', user: person });
    expect(await actions.useShortcut(person, message.channel, message.ts, 'demo.track')).toEqual({ problem: 'That did not work: Tandem answered HTTP 500.' });
  });

  it('sends a slash command escaped as the manifest asks, in a public channel the person joins by writing there', async () => {
    slack.addUser({ id: 'U0BOB', name: 'bob' });
    slack.addChannel({ id: 'C0OPEN', name: 'open' });
    await actions.send(person, 'C0OPEN', '/demo ping @bob & <you>');
    expect(received[0]?.payload).toMatchObject({ command: '/demo', text: 'ping <@U0BOB|bob> &amp; &lt;you&gt;', channel_id: 'C0OPEN', user_id: person });
    expect(slack.channels.get('C0OPEN')?.members.has(person)).toBe(true);
  });
});
