import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { projectFile } from '../paths';

/**
 * What the sandbox takes from Tandem's Slack app manifest, so the stand-in offers
 * exactly what an installed Tandem would: its slash commands, message shortcuts,
 * Home tab, event subscriptions and bot scopes. A command or shortcut added to the
 * manifest appears in the page without touching the sandbox.
 */

export interface SlashCommand {
  command: string;
  description: string;
  usageHint: string;
  /** Slack escapes &, < and > and turns @people and #channels into IDs before sending. */
  shouldEscape: boolean;
}

export interface MessageShortcut {
  name: string;
  callbackId: string;
  description: string;
}

export interface AppManifest {
  name: string;
  commands: SlashCommand[];
  messageShortcuts: MessageShortcut[];
  homeTabEnabled: boolean;
  botEvents: string[];
  botScopes: string[];
}

const manifestSchema = z.object({
  display_information: z.object({ name: z.string() }),
  features: z.object({
    app_home: z.object({ home_tab_enabled: z.boolean().default(false) }).optional(),
    slash_commands: z
      .array(
        z.object({
          command: z.string().startsWith('/'),
          description: z.string().default(''),
          usage_hint: z.string().default(''),
          should_escape: z.boolean().default(false),
        }),
      )
      .default([]),
    shortcuts: z
      .array(z.object({ name: z.string(), type: z.enum(['message', 'global']), callback_id: z.string(), description: z.string().default('') }))
      .default([]),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()).default([]) }) }),
  settings: z.object({ event_subscriptions: z.object({ bot_events: z.array(z.string()).default([]) }).optional() }),
});

const manifestPath = projectFile('manifests/slack-app.yaml');

export function readManifest(file: URL | string = manifestPath): AppManifest {
  const manifest = manifestSchema.parse(parse(readFileSync(file, 'utf8')));
  const { features } = manifest;
  return {
    name: manifest.display_information.name,
    commands: features.slash_commands.map((command) => ({
      command: command.command,
      description: command.description,
      usageHint: command.usage_hint,
      shouldEscape: command.should_escape,
    })),
    messageShortcuts: features.shortcuts
      .filter((shortcut) => shortcut.type === 'message')
      .map((shortcut) => ({ name: shortcut.name, callbackId: shortcut.callback_id, description: shortcut.description })),
    homeTabEnabled: features.app_home?.home_tab_enabled ?? false,
    botEvents: manifest.settings.event_subscriptions?.bot_events ?? [],
    botScopes: manifest.oauth_config.scopes.bot,
  };
}

/** Whether the app declares the slash command `text` starts with; a plain message needs none. */
export function declaresCommand(manifest: AppManifest, text: string): boolean {
  const command = /^\/\S+/.exec(text.trim())?.[0];
  return command === undefined || manifest.commands.some((declared) => declared.command === command);
}
