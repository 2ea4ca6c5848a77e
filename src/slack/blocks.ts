import type { types } from '@slack/bolt';
import { truncate } from './text';

/** Small Block Kit builders shared by every domain's views, with Slack's limits applied. */

export type Block = types.KnownBlock;
export type ModalView = types.ModalView;
export type Option = types.PlainTextOption;

/** A message as chat.postMessage and chat.update take it: fallback text for notifications, and blocks. */
export interface Message {
  text: string;
  blocks?: Block[];
}

export const plain = (text: string, max = 3000): types.PlainTextElement => ({
  type: 'plain_text',
  text: truncate(text, max),
  emoji: true,
});

export const mrkdwn = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text: truncate(text, 3000) });

export const header = (text: string): types.HeaderBlock => ({ type: 'header', text: plain(text, 150) });

export const section = (text: string, accessory?: types.SectionBlock['accessory']): types.SectionBlock => ({
  type: 'section',
  text: mrkdwn(text),
  ...(accessory ? { accessory } : {}),
});

export const fields = (...items: string[]): types.SectionBlock => ({
  type: 'section',
  fields: items.slice(0, 10).map((item) => ({ type: 'mrkdwn', text: truncate(item, 2000) })),
});

export const context = (...items: string[]): types.ContextBlock => ({
  type: 'context',
  elements: items.slice(0, 10).map((item) => mrkdwn(item)),
});

export const divider = (): types.DividerBlock => ({ type: 'divider' });

export const actions = (blockId: string, elements: types.ActionsBlockElement[]): types.ActionsBlock => ({
  type: 'actions',
  block_id: blockId,
  elements: elements.slice(0, 25),
});

export function button(
  actionId: string,
  text: string,
  value: string,
  style?: 'primary' | 'danger',
  confirm?: types.ConfirmationDialog,
): types.Button {
  return {
    type: 'button',
    action_id: actionId,
    text: plain(text, 75),
    value,
    ...(style ? { style } : {}),
    ...(confirm ? { confirm } : {}),
  };
}

export const option = (text: string, value: string): Option => ({ text: plain(text, 75), value });

export function modal(callbackId: string, title: string, blocks: Block[], submit?: string, privateMetadata?: object): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(title, 24),
    ...(submit ? { submit: plain(submit, 24) } : {}),
    close: plain('Cancel', 24),
    ...(privateMetadata ? { private_metadata: JSON.stringify(privateMetadata) } : {}),
    blocks,
  };
}

interface InputOptions {
  optional?: boolean;
  hint?: string;
}

/** An input block; every input's element uses the action_id `value`, so state reads by block_id alone. */
function input(blockId: string, label: string, element: types.InputBlock['element'], options: InputOptions): types.InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, 2000),
    optional: options.optional ?? false,
    ...(options.hint ? { hint: plain(options.hint, 2000) } : {}),
    element,
  };
}

export function textInput(
  blockId: string,
  label: string,
  options: InputOptions & { multiline?: boolean; initial?: string; maxLength?: number; placeholder?: string } = {},
): types.InputBlock {
  return input(
    blockId,
    label,
    {
      type: 'plain_text_input',
      action_id: 'value',
      multiline: options.multiline ?? false,
      ...(options.initial ? { initial_value: truncate(options.initial, 3000) } : {}),
      ...(options.maxLength ? { max_length: options.maxLength } : {}),
      ...(options.placeholder ? { placeholder: plain(options.placeholder, 150) } : {}),
    },
    options,
  );
}

export function selectInput(
  blockId: string,
  label: string,
  choices: Option[],
  options: InputOptions & { initial?: string } = {},
): types.InputBlock {
  const initial = choices.find((choice) => choice.value === options.initial);
  return input(
    blockId,
    label,
    { type: 'static_select', action_id: 'value', options: choices.slice(0, 100), ...(initial ? { initial_option: initial } : {}) },
    options,
  );
}

export function userInput(blockId: string, label: string, options: InputOptions & { initial?: string } = {}): types.InputBlock {
  return input(
    blockId,
    label,
    { type: 'users_select', action_id: 'value', ...(options.initial ? { initial_user: options.initial } : {}) },
    options,
  );
}

export function checkboxInput(blockId: string, label: string, choice: Option, checked = false): types.InputBlock {
  return input(
    blockId,
    label,
    { type: 'checkboxes', action_id: 'value', options: [choice], ...(checked ? { initial_options: [choice] } : {}) },
    { optional: true },
  );
}

export function dateTimeInput(blockId: string, label: string, options: InputOptions & { initial?: Date } = {}): types.InputBlock {
  return input(
    blockId,
    label,
    {
      type: 'datetimepicker',
      action_id: 'value',
      ...(options.initial ? { initial_date_time: Math.floor(options.initial.getTime() / 1000) } : {}),
    },
    options,
  );
}
