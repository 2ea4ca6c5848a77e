import type postgres from 'postgres';
import { DatabaseUnavailable, driverErrorCode, isDatabaseUnavailable } from './unavailable';

export interface StatementLimits {
  /** How long a statement may wait for a connection before the database counts as unreachable. */
  connectionWaitMs: number;
  /** How long a statement that was sent may go unanswered (a partition: the server's own timeout cannot fire). */
  answerMs: number;
}

/**
 * postgres.js queues a statement until a connection opens and keeps reconnecting
 * while the server is down, so without a bound a request waits for the whole outage.
 * This gives every statement Drizzle sends (through `unsafe` and `begin`) a deadline.
 *
 * A statement that is still queued when its deadline passes is also defused: it is
 * rewritten into a no-op, so it cannot run once the database is back, after its
 * caller was told nothing was changed. (postgres.js's own `cancel()` would leave a
 * connection that was opening for it stuck, so it is not used.)
 */
export function boundStatements(client: postgres.Sql, limits: StatementLimits): postgres.Sql {
  return bound(client, limits) as postgres.Sql;
}

/** The internals of a postgres.js Query this relies on (3.4): set when it is written to a connection, and its promise. */
interface QueryInternals {
  state: unknown;
  strings: string[];
  args: unknown[];
  reject(error: unknown): void;
}

function bound(client: postgres.Sql | postgres.TransactionSql, limits: StatementLimits): unknown {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (...args: Parameters<postgres.Sql['unsafe']>) => withDeadline(target.unsafe(...args), limits);
      }
      if (property === 'begin') {
        return (fn: (sql: postgres.TransactionSql) => Promise<unknown>) => boundTransaction(target as postgres.Sql, fn, limits);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

function withDeadline<T extends Promise<unknown>>(query: T, limits: StatementLimits): T {
  const internals = query as unknown as QueryInternals;
  let timer = setTimeout(() => {
    if (internals.state) {
      timer = setTimeout(
        () => internals.reject(new DatabaseUnavailable(`the database did not answer a statement within ${limits.answerMs} ms`)),
        Math.max(0, limits.answerMs - limits.connectionWaitMs),
      );
      return;
    }
    internals.strings = ['select 1 where false'];
    internals.args = [];
    internals.reject(new DatabaseUnavailable(`no database connection within ${limits.connectionWaitMs} ms`));
  }, limits.connectionWaitMs);
  const settled = () => clearTimeout(timer);
  // Promise's own `then`: a Query's `then` would start it before Drizzle has set it up.
  Promise.prototype.then.call(query, settled, settled);
  return query;
}

/** The connection itself is gone (not a statement the server refused). */
const connectionLostCodes = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * A transaction waits for a connection within the same bound. When a statement in it
 * finds the database unreachable, the caller hears so at once instead of waiting for
 * a rollback the server may never answer; a transaction that only gets its
 * connection after its caller gave up is rolled back.
 */
function boundTransaction(
  client: postgres.Sql,
  fn: (sql: postgres.TransactionSql) => Promise<unknown>,
  limits: StatementLimits,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let abandoned = false;
    const giveUp = (error: unknown) => {
      abandoned = true;
      reject(error);
    };
    let timer = setTimeout(
      () => giveUp(new DatabaseUnavailable(`no database connection for a transaction within ${limits.connectionWaitMs} ms`)),
      limits.connectionWaitMs,
    );
    client
      .begin(async (sql) => {
        clearTimeout(timer);
        if (abandoned) throw new DatabaseUnavailable('the transaction got its connection after its caller stopped waiting');
        try {
          const result = await fn(bound(sql, limits) as postgres.TransactionSql);
          // COMMIT goes out on postgres.js's own handle, past the statement deadlines above.
          timer = setTimeout(() => giveUp(new DatabaseUnavailable(`the database did not answer COMMIT within ${limits.answerMs} ms`)), limits.answerMs);
          return result;
        } catch (error) {
          if (isDatabaseUnavailable(error)) giveUp(error);
          // The server ended the transaction with the connection. Settling here would make
          // postgres.js 3.4.9 write ROLLBACK to the closed socket from a timer, an uncaught
          // TypeError that ends the process (porsager/postgres#1208), so this never settles.
          if (connectionLostCodes.has(driverErrorCode(error) ?? '')) return new Promise<never>(() => {});
          throw error;
        }
      })
      .then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
  });
}
