/**
 * The database could not be reached or did not answer in time. Callers answer
 * "try again shortly" (HTTP 503, Slack's "cannot reach its database"), not "broken".
 */
export class DatabaseUnavailable extends Error {
  override name = 'DatabaseUnavailable';
}

/**
 * Errors that mean "no database right now" rather than a bad statement: the socket
 * (Node), the pool (postgres.js), and the server refusing work (admin or crash
 * shutdown, starting up, too many connections, any connection-exception class 08)
 * or too slow to do it (57014: its statement_timeout passed).
 */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** True for DatabaseUnavailable and for driver errors that mean the same. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (causes(error).some((cause) => cause instanceof DatabaseUnavailable)) return true;
  const code = driverErrorCode(error);
  return code !== undefined && (unreachableCodes.has(code) || code.startsWith('08'));
}

/** The socket, pool or SQLSTATE code of a driver error; Drizzle wraps those, so causes are followed. */
export function driverErrorCode(error: unknown): string | undefined {
  for (const cause of causes(error)) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current);
  return chain;
}

/** Rejects with DatabaseUnavailable when `work` has not settled within `ms`; the work itself is not stopped. */
export function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailable(`the database did not answer ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
