import { z } from 'zod';
import { invalid } from '../errors';

/**
 * List cursors are opaque to clients (base64url of the last item's sort position), so
 * the position's shape can change without breaking anyone who stored one.
 */
export const encodeCursor = (position: unknown[]): string => Buffer.from(JSON.stringify(position)).toString('base64url');

/** The position a cursor names, or a 422 that says to pass `next_cursor` back unchanged. */
export function decodeCursor<T>(cursor: string, position: z.ZodType<T>): T {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const result = position.safeParse(decoded);
  if (result.success) return result.data;
  throw invalid('invalid_cursor', 'cursor is not one Tandem gave out: pass the next_cursor of the previous page unchanged, or leave it out for the first page.', [
    { field: 'cursor', message: 'must be the next_cursor of a previous page' },
  ]);
}

/** A list's `limit` query parameter: 1 to 100 items a page, 50 unless asked. */
export const pageLimit = z.coerce
  .number({ error: 'must be a whole number from 1 to 100' })
  .int('must be a whole number from 1 to 100')
  .min(1, 'must be a whole number from 1 to 100')
  .max(100, 'must be a whole number from 1 to 100')
  .default(50);
