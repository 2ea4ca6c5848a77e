/**
 * Incidents and changes are named by their id (a UUID) or their key (`INC-17`,
 * `CHG-42`); the REST API and commands accept either, and a bare number too.
 */

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "INC-17", "inc-17" or "17" → 17, for the key prefix given. */
export function parseKeyNumber(reference: string, prefix: 'INC' | 'CHG'): number | undefined {
  const match = new RegExp(`^(?:${prefix}-)?(\\d{1,9})$`, 'i').exec(reference.trim());
  return match ? Number(match[1]) : undefined;
}

export async function findByReference<T>(
  reference: string,
  prefix: 'INC' | 'CHG',
  find: { byId: (id: string) => Promise<T | undefined>; byNumber: (number: number) => Promise<T | undefined> },
): Promise<T | undefined> {
  if (uuidPattern.test(reference)) return find.byId(reference);
  const number = parseKeyNumber(reference, prefix);
  return number === undefined ? undefined : find.byNumber(number);
}
