import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness';

interface Manifest {
  display_information: { name: string; description: string; long_description: string };
  features: {
    slash_commands: Array<{ command: string; url: string; description: string; should_escape: boolean }>;
    shortcuts: Array<{ name: string; type: string; callback_id: string; description: string }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url: string };
    event_subscriptions: { request_url: string; bot_events: string[] };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(readFileSync('manifests/slack-app.yaml', 'utf8')) as Manifest;
const requestUrl = 'https://tandem.example.com/slack/events';

describe('Slack app manifest', () => {
  let t: Harness;
  beforeAll(async () => {
    t = await startHarness({ workspace: (slack) => slack.addUser({ id: 'U0ALICE', name: 'alice' }) });
  });
  afterAll(() => t.stop());

  it('sends every command and interaction to the one request URL, with escaped mentions', () => {
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: requestUrl });
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: requestUrl,
      bot_events: ['app_home_opened', 'message.channels', 'message.groups', 'pin_added', 'pin_removed', 'reaction_added', 'reaction_removed'],
    });
    for (const command of manifest.features.slash_commands) {
      expect(command.url).toBe(requestUrl);
      expect(command.should_escape).toBe(true);
    }
  });

  it('declares exactly the commands Tandem answers', async () => {
    const declared = manifest.features.slash_commands.map((command) => command.command).sort();
    expect(declared).toEqual(['/change', '/incident', '/sprint', '/tandem']);
    for (const command of declared) {
      const answer = await t.simulator.command('U0ALICE', 'C0GENERAL', command, 'help');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ text: expect.stringContaining(command) });
    }
  });

  it('declares exactly the shortcuts Tandem answers', async () => {
    expect(manifest.features.shortcuts.map((shortcut) => [shortcut.type, shortcut.callback_id])).toEqual([['message', 'sprint.track_request']]);
    for (const shortcut of manifest.features.shortcuts) {
      expect(shortcut.description.length).toBeLessThanOrEqual(150);
      const message = t.slack.post('C0GENERAL', { text: 'Could you add dark mode?', user: 'U0ALICE' });
      const answer = await t.simulator.shortcut('U0ALICE', message, shortcut.callback_id);
      await t.idle();
      expect(answer.status).toBe(200);
      // C0GENERAL is no customer channel, so Tandem explains instead of tracking.
      expect(t.slack.ephemeralsFor('U0ALICE').at(-1)!.text).toContain('is not one');
    }
  });

  it('asks for the scope each subscribed event needs, and no event scope it does not use', () => {
    // Slack delivers an event only with its scope: https://api.slack.com/events
    const eventScopes: Record<string, string> = {
      'message.channels': 'channels:history',
      'message.groups': 'groups:history',
      pin_added: 'pins:read',
      pin_removed: 'pins:read',
      reaction_added: 'reactions:read',
      reaction_removed: 'reactions:read',
    };
    const scopes = manifest.oauth_config.scopes.bot;
    for (const event of manifest.settings.event_subscriptions.bot_events) {
      if (eventScopes[event]) expect(scopes).toContain(eventScopes[event]);
    }
    for (const readScope of ['channels:history', 'groups:history', 'pins:read', 'reactions:read']) {
      expect(Object.entries(eventScopes).some(([event, scope]) => scope === readScope && manifest.settings.event_subscriptions.bot_events.includes(event))).toBe(true);
    }
    expect(scopes).not.toContain('im:history');
    expect(scopes).not.toContain('mpim:history');
  });

  it('fits Slack’s limits for app details', () => {
    const { name, description, long_description: long } = manifest.display_information;
    expect(name.length).toBeLessThanOrEqual(35);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(long.length).toBeGreaterThanOrEqual(175);
    expect(long.length).toBeLessThanOrEqual(4000);
  });
});
