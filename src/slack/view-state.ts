import { z } from 'zod';
import { storableInstant, withoutNul } from '../fields';

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
  /** A datetimepicker's choice; undefined when empty or outside the range Tandem stores. */
  instant(blockId: string): Date | undefined;
  metadata<T extends z.ZodType>(schema: T): z.infer<T> | undefined;
}

export function readViewState(view: unknown): ViewState {
  const parsed = viewSchema.parse(view);
  const element = (blockId: string) => parsed.state.values[blockId]?.value;
  return {
    id: parsed.id,
    text: (blockId) => withoutNul(element(blockId)?.value ?? '').trim() || undefined,
    selected: (blockId) => element(blockId)?.selected_option?.value ?? undefined,
    user: (blockId) => element(blockId)?.selected_user ?? undefined,
    checked: (blockId) => element(blockId)?.selected_options?.map((option) => option.value) ?? [],
    instant: (blockId) => {
      const seconds = element(blockId)?.selected_date_time;
      return typeof seconds === 'number' ? storableInstant(new Date(seconds * 1000)) : undefined;
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
