// Block Kit as DOM: the blocks and elements Tandem sends (header, section with text,
// fields and an accessory, context, divider, actions with buttons, image, and the
// inputs of modals). Anything else is shown as unsupported rather than guessed at.

import { renderMrkdwn } from './mrkdwn.js';

/**
 * @typedef {import('./mrkdwn.js').MentionContext & {
 *   people: Array<{ id: string, realName: string }>,
 *   onAction: (actionId: string) => Promise<unknown>,
 *   confirm: (dialog: any) => Promise<boolean>,
 * }} BlockContext
 */

/**
 * @param {any[]} blocks
 * @param {BlockContext} context
 * @returns {HTMLElement}
 */
export function renderBlocks(blocks, context) {
  const container = element('div', 'blocks');
  for (const block of blocks) container.append(renderBlock(block, context));
  return container;
}

/**
 * @param {any} block
 * @param {BlockContext} context
 */
function renderBlock(block, context) {
  switch (block.type) {
    case 'header':
      return element('div', 'bk-header', renderText(block.text, context));
    case 'section': {
      const section = element('div', 'bk-section');
      const body = element('div', 'bk-section-body');
      if (block.text) body.append(element('div', 'bk-section-text', renderText(block.text, context)));
      if (block.fields) body.append(element('div', 'bk-fields', ...block.fields.map((field) => element('div', 'bk-field', renderText(field, context)))));
      section.append(body);
      if (block.accessory) section.append(element('div', 'bk-accessory', renderElement(block.accessory, context)));
      return section;
    }
    case 'context':
      return element(
        'div',
        'bk-context',
        ...block.elements.map((item) => (item.type === 'image' ? image(item, 'bk-context-image') : element('span', 'bk-context-text', renderText(item, context)))),
      );
    case 'divider':
      return element('hr', 'bk-divider');
    case 'actions':
      return element('div', 'bk-actions', ...block.elements.map((item) => renderElement(item, context)));
    case 'image': {
      const figure = element('figure', 'bk-image', image(block, 'bk-image-img'));
      if (block.title) figure.append(element('figcaption', '', renderText(block.title, context)));
      return figure;
    }
    case 'input':
      return renderInput(block, context);
    default:
      return unsupported(`block "${block.type}"`);
  }
}

/** A button or image; other interactive elements are not sent by Tandem. */
function renderElement(item, context) {
  if (item.type === 'image') return image(item, 'bk-accessory-image');
  if (item.type !== 'button') return unsupported(`element "${item.type}"`);
  const button = element('button', `bk-button${item.style ? ` bk-button-${item.style}` : ''}`, renderText(item.text, context));
  button.type = 'button';
  button.dataset.actionId = item.action_id;
  button.addEventListener('click', async () => {
    if (item.confirm && !(await context.confirm(item.confirm))) return;
    if (item.url && /^https?:/i.test(item.url)) window.open(item.url, '_blank', 'noopener');
    // Until Tandem answered, so an impatient second click is not sent (Tandem would ignore it anyway).
    button.disabled = true;
    await context.onAction(item.action_id);
    button.disabled = false;
  });
  return button;
}

/** An input block of a modal: its label, control, hint, and a place for the app's error. */
function renderInput(block, context) {
  const input = element('div', 'bk-input');
  input.dataset.blockId = block.block_id;
  input.dataset.elementType = block.element.type;
  const id = `input-${block.block_id}`;
  const label = element('label', 'bk-input-label', renderText(block.label, context));
  label.htmlFor = id;
  if (block.optional) label.append(element('span', 'bk-optional', ' (optional)'));
  const control = renderControl(block.element, id, context);
  // Slack will not submit a modal while a required input is empty; the browser's form validation does the same here.
  if (!block.optional && 'required' in control) control.required = true;
  input.append(label, control);
  if (block.hint) input.append(element('div', 'bk-hint', renderText(block.hint, context)));
  input.append(element('div', 'bk-input-error'));
  return input;
}

function renderControl(control, id, context) {
  switch (control.type) {
    case 'plain_text_input': {
      const field = document.createElement(control.multiline ? 'textarea' : 'input');
      field.id = id;
      field.className = 'bk-text-input';
      if (control.initial_value) field.value = control.initial_value;
      if (control.max_length) field.maxLength = control.max_length;
      if (control.placeholder) field.placeholder = control.placeholder.text;
      return field;
    }
    case 'static_select':
      return select(
        id,
        control.placeholder?.text ?? 'Select an option',
        control.options.map((option) => [option.value, option.text.text]),
        control.initial_option?.value,
      );
    case 'users_select':
      return select(
        id,
        control.placeholder?.text ?? 'Select a person',
        context.people.map((person) => [person.id, person.realName]),
        control.initial_user,
      );
    case 'checkboxes': {
      const initial = new Set((control.initial_options ?? []).map((option) => option.value));
      const group = element('div', 'bk-checkboxes');
      group.id = id;
      for (const option of control.options) {
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.value = option.value;
        box.checked = initial.has(option.value);
        group.append(element('label', 'bk-checkbox', box, renderText(option.text, context)));
      }
      return group;
    }
    case 'datetimepicker': {
      const field = document.createElement('input');
      field.type = 'datetime-local';
      field.id = id;
      field.className = 'bk-text-input';
      if (control.initial_date_time) field.value = localDateTime(new Date(control.initial_date_time * 1000));
      return field;
    }
    default:
      return unsupported(`input "${control.type}"`);
  }
}

/**
 * The values of a modal's inputs by block_id, as the sandbox's submit route takes them:
 * text, a selected value or person, ISO date-times, lists of checked values; null when empty.
 * @param {HTMLElement} container
 */
export function readInputValues(container) {
  /** @type {Record<string, string | string[] | null>} */
  const values = {};
  for (const input of container.querySelectorAll('.bk-input')) {
    const { blockId, elementType } = /** @type {HTMLElement} */ (input).dataset;
    if (!blockId) continue;
    if (elementType === 'checkboxes') {
      values[blockId] = [...input.querySelectorAll('input[type=checkbox]:checked')].map((box) => /** @type {HTMLInputElement} */ (box).value);
      continue;
    }
    const field = /** @type {HTMLInputElement | null} */ (input.querySelector('input, textarea, select'));
    if (!field) continue;
    const value = field.value.trim() === '' ? null : field.value;
    values[blockId] = value !== null && elementType === 'datetimepicker' ? new Date(value).toISOString() : value;
  }
  return values;
}

/**
 * Shows the app's `response_action: errors` under their inputs.
 * @param {HTMLElement} container
 * @param {Record<string, string>} errors
 */
export function showInputErrors(container, errors) {
  for (const input of container.querySelectorAll('.bk-input')) {
    const blockId = /** @type {HTMLElement} */ (input).dataset.blockId ?? '';
    const message = errors[blockId] ?? '';
    input.classList.toggle('has-error', message !== '');
    const slot = input.querySelector('.bk-input-error');
    if (slot) slot.textContent = message;
  }
}

/** @param {any} text a plain_text or mrkdwn text object */
function renderText(text, context) {
  if (!text) return document.createTextNode('');
  return text.type === 'mrkdwn' ? renderMrkdwn(text.text, context) : document.createTextNode(text.text);
}

function select(id, placeholder, options, initial) {
  const field = document.createElement('select');
  field.id = id;
  field.className = 'bk-select';
  const empty = new Option(placeholder, '');
  field.append(empty, ...options.map(([value, label]) => new Option(label, value, false, value === initial)));
  return field;
}

function image(item, className) {
  const img = document.createElement('img');
  img.className = className;
  img.alt = item.alt_text ?? '';
  if (/^(https?:|data:image\/)/i.test(item.image_url ?? '')) img.src = item.image_url;
  return img;
}

function unsupported(what) {
  return element('div', 'bk-unsupported', `The sandbox does not render ${what}.`);
}

/** datetime-local wants the reader's local time, without a zone. */
function localDateTime(date) {
  const pad = (number) => String(number).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {...(Node | string)} children
 */
export function element(tag, className, ...children) {
  const created = document.createElement(tag);
  if (className) created.className = className;
  created.append(...children);
  return created;
}
