import { z } from 'zod';
import { invalid, type TandemError } from '../errors';
import { acceptedRange, storableInstant, withoutNul } from '../fields';

/** The fields of a submitted modal that Tandem reads, validated before use. */
const elementState = z.object({
  type: z.string(),
  value: z.string().nullish(),
  selected_option: z.object({ value: z.string() }).nullish(),
  selected_options: z.array(z.object({ value: z.string() })).nullish(),
  selected_user: z.string().nullish(),
  selected_date: z.string().nullish(),
  selected_date_time: z.number().nullish(),
  selected_conversation: z.string().nullish(),
});

const viewSchema = z.object({
  id: z.string(),
  callback_id: z.string(),
  private_metadata: z.string().optional(),
  state: z.object({ values: z.record(z.string(), z.record(z.string(), elementState)) }),
});

export interface ViewState {
  id: string;
  /** Trimmed text of a text input, without NUL characters (see `withoutNul`); undefined when empty. */
  text(blockId: string): string | undefined;
  selected(blockId: string): string | undefined;
  user(blockId: string): string | undefined;
  checked(blockId: string): string[];
  /** A datetimepicker's choice; undefined when empty, a field error when outside the range Tandem stores. */
  instant(blockId: string): Date | undefined;
  metadata<T extends z.ZodType>(schema: T): z.infer<T> | undefined;
}

/**
 * Reads a submitted modal. A field Slack sent in a shape Tandem cannot read is a
 * TandemError naming that field, so the shared error path shows it there; a view
 * without readable state gets a message of its own.
 */
export function readViewState(view: unknown): ViewState {
  const result = viewSchema.safeParse(view);
  if (!result.success) throw unreadable(result.error);
  const parsed = result.data;
  const element = (blockId: string) => parsed.state.values[blockId]?.value;
  return {
    id: parsed.id,
    text: (blockId) => withoutNul(element(blockId)?.value ?? '').trim() || undefined,
    selected: (blockId) => element(blockId)?.selected_option?.value ?? undefined,
    user: (blockId) => element(blockId)?.selected_user ?? undefined,
    checked: (blockId) => element(blockId)?.selected_options?.map((option) => option.value) ?? [],
    instant: (blockId) => {
      const seconds = element(blockId)?.selected_date_time;
      if (typeof seconds !== 'number') return undefined;
      const instant = storableInstant(new Date(seconds * 1000));
      if (!instant) {
        throw invalid('validation_failed', `That date and time cannot be stored: pick one ${acceptedRange}.`, [
          { field: blockId, message: `must be ${acceptedRange}` },
        ]);
      }
      return instant;
    },
    metadata(schema) {
      try {
        const result = schema.safeParse(JSON.parse(parsed.private_metadata ?? ''));
        return result.success ? result.data : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

function unreadable(error: z.ZodError): TandemError {
  const path = error.issues[0]?.path ?? [];
  const block = path[0] === 'state' && path[1] === 'values' && typeof path[2] === 'string' ? path[2] : undefined;
  if (!block) {
    return invalid('unreadable_form', 'Slack sent this form without the contents Tandem needs, so nothing was saved. Close it and open it again.');
  }
  return invalid('unreadable_form', 'Slack sent this field in a shape Tandem cannot read, so nothing was saved. Fill it in again and submit.', [
    { field: block, message: 'could not be read' },
  ]);
}
