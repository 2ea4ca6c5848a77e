import { describe, expect, it } from 'vitest';
import { toErrorEnvelope } from '../../src/api/errors';
import { DatabaseUnavailable } from '../../src/db/unavailable';
import { invalid } from '../../src/errors';

const driverError = (code: string, message = 'driver error') => Object.assign(new Error(message), { code });
/** Drizzle wraps what the driver threw. */
const wrapped = (cause: Error) => new Error('Failed query: insert into "incidents" …', { cause });

describe('errors that mean the database cannot answer now', () => {
  it.each([
    ['a refused connection', driverError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a connect timeout', driverError('CONNECT_TIMEOUT')],
    ['a closed connection', wrapped(driverError('CONNECTION_CLOSED'))],
    ['an ended pool', driverError('CONNECTION_ENDED')],
    ['an admin shutdown', wrapped(driverError('57P01', 'terminating connection due to administrator command'))],
    ['a server starting up', driverError('57P03', 'the database system is starting up')],
    ['the statement timeout', wrapped(driverError('57014', 'canceling statement due to statement timeout'))],
    ['a connection exception', driverError('08006')],
    ['a missed deadline', wrapped(new DatabaseUnavailable('no database connection within 2000 ms'))],
  ])('answers %s with 503, Retry-After and the envelope', (_, error) => {
    expect(toErrorEnvelope(error)).toEqual({
      status: 503,
      headers: { 'retry-after': '5' },
      body: { error: { code: 'database_unavailable', message: expect.stringContaining('cannot reach its database') } },
    });
  });

  it('leaves statement errors and domain errors alone', () => {
    expect(toErrorEnvelope(wrapped(driverError('23505', 'duplicate key value'))).status).toBe(500);
    expect(toErrorEnvelope(new Error('boom')).status).toBe(500);
    expect(toErrorEnvelope(invalid('validation_failed', 'Bad.')).status).toBe(422);
  });
});
