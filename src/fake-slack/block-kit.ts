/**
 * Block Kit limits as Slack enforces them, so the stand-in rejects what Slack would
 * (`invalid_blocks`, `invalid_arguments`) instead of letting a bad view pass tests.
 */

type Json = Record<string, unknown>;

const textLimit = (element: unknown, max: number, path: string, errors: string[]) => {
  const text = (element as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') {
    errors.push(`${path} must have text`);
  } else if (text.length > max) {
    errors.push(`${path} must be at most ${max} characters (got ${text.length})`);
  } else if (text.length === 0) {
    errors.push(`${path} must not be empty`);
  }
};

function checkElement(element: Json, path: string, errors: string[]) {
  switch (element.type) {
    case 'button':
      textLimit(element.text, 75, `${path}.text`, errors);
      if (typeof element.action_id === 'string' && element.action_id.length > 255) errors.push(`${path}.action_id too long`);
      if (typeof element.value === 'string' && element.value.length > 2000) errors.push(`${path}.value too long`);
      break;
    case 'static_select':
    case 'checkboxes':
    case 'radio_buttons': {
      const options = element.options as unknown[] | undefined;
      if (!Array.isArray(options) || options.length === 0) errors.push(`${path}.options must not be empty`);
      else if (options.length > 100) errors.push(`${path}.options must have at most 100 items`);
      else options.forEach((option, index) => textLimit((option as Json).text, 75, `${path}.options[${index}].text`, errors));
      break;
    }
    default:
      break;
  }
}

function checkBlock(block: Json, path: string, errors: string[], ids: Set<string>) {
  if (typeof block.block_id === 'string') {
    if (ids.has(block.block_id)) errors.push(`${path}.block_id "${block.block_id}" is not unique`);
    ids.add(block.block_id);
  }
  switch (block.type) {
    case 'header':
      textLimit(block.text, 150, `${path}.text`, errors);
      break;
    case 'section': {
      const fields = block.fields as unknown[] | undefined;
      if (block.text === undefined && !fields) errors.push(`${path} must have text or fields`);
      if (block.text !== undefined) textLimit(block.text, 3000, `${path}.text`, errors);
      if (fields) {
        if (fields.length > 10) errors.push(`${path}.fields must have at most 10 items`);
        fields.forEach((field, index) => textLimit(field, 2000, `${path}.fields[${index}]`, errors));
      }
      if (block.accessory) checkElement(block.accessory as Json, `${path}.accessory`, errors);
      break;
    }
    case 'context': {
      const elements = block.elements as unknown[] | undefined;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) {
        errors.push(`${path}.elements must have 1 to 10 items`);
      } else {
        elements.forEach((element, index) => {
          if ((element as Json).type !== 'image') textLimit(element, 3000, `${path}.elements[${index}]`, errors);
        });
      }
      break;
    }
    case 'actions': {
      const elements = block.elements as Json[] | undefined;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) {
        errors.push(`${path}.elements must have 1 to 25 items`);
      } else {
        elements.forEach((element, index) => checkElement(element, `${path}.elements[${index}]`, errors));
      }
      break;
    }
    case 'input':
      textLimit(block.label, 2000, `${path}.label`, errors);
      if (!block.element) errors.push(`${path}.element is required`);
      else checkElement(block.element as Json, `${path}.element`, errors);
      break;
    case 'divider':
    case 'image':
    case 'rich_text':
      break;
    default:
      errors.push(`${path}.type "${String(block.type)}" is not a supported block type`);
  }
}

/** Problems Slack would report for these blocks; empty when they are valid. */
export function blockProblems(blocks: unknown, maxBlocks: number): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const errors: string[] = [];
  if (blocks.length > maxBlocks) errors.push(`no more than ${maxBlocks} items allowed [json-pointer:/blocks]`);
  const ids = new Set<string>();
  blocks.forEach((block, index) => checkBlock(block as Json, `blocks[${index}]`, errors, ids));
  return errors;
}

/** Problems Slack would report for a modal or Home tab view. */
export function viewProblems(view: Json): string[] {
  const errors = blockProblems(view.blocks, 100);
  if (view.type === 'modal') {
    textLimit(view.title, 24, 'title', errors);
    if (view.submit) textLimit(view.submit, 24, 'submit', errors);
    if (view.close) textLimit(view.close, 24, 'close', errors);
    const hasInputs = (view.blocks as Json[] | undefined)?.some((block) => block.type === 'input');
    if (hasInputs && !view.submit) errors.push('a modal with inputs needs a submit button');
  } else if (view.type !== 'home') {
    errors.push(`view type "${String(view.type)}" is not supported`);
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) {
    errors.push('private_metadata must be at most 3000 characters');
  }
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) errors.push('callback_id too long');
  return errors;
}
