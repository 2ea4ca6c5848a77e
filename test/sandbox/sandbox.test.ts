import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PersonView } from '../../src/sandbox/person-view';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox';

const [alex, priya] = ['U0ALEX', 'U0PRIYA'];

describe('the sandbox', { timeout: 60_000 }, () => {
  let dataDir: string;
  let sandbox: Sandbox;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-sandbox-test-'));
    sandbox = await startSandbox({ port: 0, dataDir, logLevel: 'silent' });
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const state = async (person?: string): Promise<PersonView> => {
    const response = await fetch(new URL(`/sandbox/state${person ? `?as=${person}` : ''}`, sandbox.url));
    expect(response.status).toBe(200);
    return (await response.json()) as PersonView;
  };
  const post = async (route: string, body: unknown, contentType = 'application/json') => {
    const response = await fetch(new URL(route, sandbox.url), { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const messagesIn = (view: PersonView, channelName: string | RegExp) => {
    const channel = view.channels.find((candidate) => (typeof channelName === 'string' ? candidate.name === channelName : channelName.test(candidate.name)));
    return view.messages.filter((message) => message.channel === channel?.id);
  };

  it('starts with demo data that Tandem itself made: a change waiting for approval and an open incident', async () => {
    const view = await state();
    expect(view.you).toBe(alex);
    expect(view.channels.map((channel) => channel.name)).toEqual([
      'acme-customer',
      'change-approvals',
      'general',
      expect.stringMatching(/^inc-\d{8}-1-search-results-time-out-for-long-queries$/),
      'incidents',
    ]);
    const [request] = messagesIn(view, 'change-approvals');
    expect(request?.text).toBe('CHG-1 · Rotate card-vault keys: ⏳ Waiting for approval');
    expect(JSON.stringify(request?.blocks)).toContain('change.approve');
    expect(messagesIn(view, /^inc-/)[0]).toMatchObject({ pinned: true, text: 'INC-1 · Search results time out for long queries (SEV3, Investigating)' });
    expect(messagesIn(view, 'general')).toEqual([
      expect.objectContaining({ ephemeral: true, text: 'Requested *CHG-1* Rotate card-vault keys: waiting for approval in <#C0APPROVALS>.' }),
    ]);
    expect(view.commands.map((command) => command.command)).toEqual(expect.arrayContaining(['/incident', '/change']));
    expect(view.people.find((person) => person.id === priya)).toMatchObject({ realName: 'Priya Shah', roles: ['owner of payments', 'approves payments', 'approves search'] });
  });

  it('delivers what a person types to Tandem as Slack would, and shows each person only their own replies', async () => {
    expect(await post('/sandbox/send', { as: priya, channel: 'C0GENERAL', text: '/change list' })).toEqual({ status: 200, body: {} });
    await vi.waitFor(async () => expect(messagesIn(await state(priya), 'general').at(-1)).toMatchObject({ ephemeral: true, text: expect.stringContaining('CHG-1') }));
    const reply = messagesIn(await state(priya), 'general').at(-1)!;
    expect(messagesIn(await state(alex), 'general').map((message) => message.ts)).not.toContain(reply.ts);

    expect(await post('/sandbox/send', { as: alex, channel: 'C0GENERAL', text: '/deploy now' })).toEqual({
      status: 200,
      body: { problem: '/deploy is not a valid command. In Slack, all messages that start with "/" are interpreted as commands.' },
    });
  });

  it('keeps the signing secret and bot token away from the page, and Tandem refuses what is not signed', async () => {
    const page = [JSON.stringify(await state()), ...readdirSync(new URL('../../src/sandbox/page/', import.meta.url)).map((file) => readFileSync(new URL(`../../src/sandbox/page/${file}`, import.meta.url), 'utf8'))];
    expect(page.join('\n')).not.toMatch(/xoxb-sandbox|signingSecret|x-slack-signature/i);

    const unsigned = await fetch(`${sandbox.tandemUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ command: '/incident', text: 'Unsigned', user_id: alex, channel_id: 'C0GENERAL' }).toString(),
    });
    expect(unsigned.status).toBe(401);

    const html = await fetch(sandbox.url);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers requests it cannot carry out with 400, 404 or 415 and does nothing', async () => {
    const before = (await state()).messages.length;
    expect(await post('/sandbox/send', { as: alex, channel: 'C0GENERAL', text: '' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', details: [{ field: 'text', message: 'must not be empty' }] } },
    });
    expect(await post('/sandbox/send', { as: 'alex', channel: 'C0GENERAL', text: 'hi' })).toMatchObject({ status: 400 });
    expect(await post('/sandbox/send', { as: alex, channel: 'C0GENERAL', text: 'hi', extra: true })).toMatchObject({ status: 400 });
    expect(await post('/sandbox/send', { as: 'U0NOBODY', channel: 'C0GENERAL', text: 'hi' })).toMatchObject({ status: 404, body: { error: { code: 'unknown_person' } } });
    expect(await post('/sandbox/send', { as: alex, channel: 'C0NOWHERE', text: 'hi' })).toMatchObject({ status: 404, body: { error: { code: 'channel_not_found' } } });
    expect(await post('/sandbox/actions', { as: alex, actionId: 'change.approve', target: { channel: 'C0GENERAL', ts: '1.2' } })).toMatchObject({ status: 404 });
    const request = messagesIn(await state(), 'change-approvals')[0]!;
    expect(await post('/sandbox/actions', { as: alex, actionId: 'no.such.button', target: { channel: request.channel, ts: request.ts } })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_interaction' } },
    });
    expect(await post('/sandbox/views/submit', { as: alex, viewId: 'V0NOPE', values: {} })).toMatchObject({ status: 404, body: { error: { code: 'view_not_found' } } });
    expect(await post('/sandbox/shortcuts', { as: alex, channel: request.channel, ts: request.ts, callbackId: 'nope' })).toMatchObject({ status: 400 });
    expect(await post('/sandbox/load', { enabled: 'yes' })).toMatchObject({ status: 400 });
    expect(await post('/sandbox/send', { as: alex, channel: 'C0GENERAL', text: 'hi' }, 'text/plain')).toMatchObject({ status: 415 });
    const malformed = await fetch(new URL('/sandbox/send', sandbox.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
    expect((await state()).messages.length).toBe(before);
  });

  it('opens and submits modals for the person who asked, with the app’s field errors', async () => {
    expect(await post('/sandbox/send', { as: priya, channel: 'C0GENERAL', text: '/change' })).toEqual({ status: 200, body: {} });
    const { modal } = await state(priya);
    expect(modal?.view).toMatchObject({ type: 'modal', callback_id: 'change.request' });
    expect((await state(alex)).modal).toBeNull();
    expect(await post('/sandbox/views/close', { as: alex, viewId: modal!.id })).toMatchObject({ status: 404 });

    const submitted = await post('/sandbox/views/submit', {
      as: priya,
      viewId: modal!.id,
      values: { service: 'payments', title: 'Raise card limits', type: 'normal', environment: 'production', planned_start: null },
    });
    expect(submitted.status).toBe(200);
    expect((await state(priya)).modal).toBeNull();
    await vi.waitFor(async () => expect(messagesIn(await state(priya), 'change-approvals').map((message) => message.text)).toContainEqual(expect.stringContaining('Raise card limits')));
  });

  it('plays a Slack under load: 429 with Retry-After, which Tandem waits out', async () => {
    expect(await post('/sandbox/load', { enabled: true })).toEqual({ status: 200, body: { enabled: true, rateLimited: 0 } });
    try {
      const post429 = () =>
        fetch(`${sandbox.slack.apiUrl}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sandbox.slack.botToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'C0GENERAL', text: 'load probe' }),
        });
      const answers = [await post429(), await post429()];
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 429]);
      expect(answers.find((answer) => answer.status === 429)?.headers.get('retry-after')).toBe('1');

      await post('/sandbox/send', { as: priya, channel: 'C0INCIDENTS', text: '/incident Card authorisations are slow service=payments' });
      await vi.waitFor(
        async () => expect(messagesIn(await state(priya), /-card-authorisations-are-slow$/)[0]).toMatchObject({ pinned: true }),
        { timeout: 30_000, interval: 200 },
      );
      expect((await state()).load.rateLimited).toBeGreaterThan(1);
    } finally {
      await post('/sandbox/load', { enabled: false });
    }
  });
});
