import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, revokeApiToken, TokenVerifier } from '../../src/api/tokens';
import type { Database } from '../../src/db/client';
import { TestClock } from '../support/clock';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** The database, counting the lookups made through it. */
function counting(db: Database): { db: Database; lookups: () => number } {
  let selects = 0;
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'select') selects += 1;
      return Reflect.get(target, property, receiver);
    },
  });
  return { db: proxy, lookups: () => selects };
}

const madeUp = () => `tdm_${randomBytes(32).toString('base64url')}`;

async function inBatches(tokens: string[], verifier: TokenVerifier) {
  for (let start = 0; start < tokens.length; start += 500) {
    await Promise.all(tokens.slice(start, start + 500).map((token) => verifier.verify(token)));
  }
}

describe('bearer tokens under a flood of bad ones', () => {
  let database: TestDatabase;
  const clock = new TestClock();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  const mint = async (name: string) => (await createApiToken(database.handle.db, clock, { name, scopes: ['read'] })).token;

  it('keeps a valid token cached through 10,500 made-up ones (the old cache was cleared at 10,000)', async () => {
    const valid = await mint('pipeline');
    const { db, lookups } = counting(database.handle.db);
    const verifier = new TokenVerifier(db, clock);
    expect(await verifier.verify(valid)).toMatchObject({ name: 'pipeline' });
    await inBatches(Array.from({ length: 10_500 }, madeUp), verifier);
    const before = lookups();
    expect(await verifier.verify(valid)).toMatchObject({ name: 'pipeline' });
    expect(lookups() - before).toBe(0);
  }, 60_000);

  it('costs no lookup for what is not shaped like a token, and one per unknown token until it expires', async () => {
    const { db, lookups } = counting(database.handle.db);
    const verifier = new TokenVerifier(db, clock);
    const malformed = ['tdm_not-a-real-token', 'tdm_', `tdm_${'a'.repeat(42)}`, `tdm_${'a'.repeat(44)}`, `tdm_${'!'.repeat(43)}`, 'xoxb-123', madeUp().slice(4)];
    for (const token of malformed) expect(await verifier.verify(token)).toBeUndefined();
    expect(lookups()).toBe(0);

    const unknown = madeUp();
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(unknown)));
    expect(lookups()).toBe(1);
    expect(await verifier.verify(unknown)).toBeUndefined();
    expect(lookups()).toBe(1);
    clock.advance(5_001);
    expect(await verifier.verify(unknown)).toBeUndefined();
    expect(lookups()).toBe(2);
  });

  it('still honours a revocation within ten seconds', async () => {
    const doomed = await mint('doomed');
    const verifier = new TokenVerifier(database.handle.db, clock);
    expect(await verifier.verify(doomed)).toMatchObject({ name: 'doomed' });
    await revokeApiToken(database.handle.db, clock, 'doomed');
    clock.advance(10_001);
    expect(await verifier.verify(doomed)).toBeUndefined();
  });

  it('bounds the valid tokens it keeps, dropping the least recently used', async () => {
    const [a, b, c] = [await mint('a'), await mint('b'), await mint('c')];
    const { db, lookups } = counting(database.handle.db);
    const verifier = new TokenVerifier(db, clock, 10_000, { valid: 2, unknown: 2 });
    for (const token of [a, b, a, c]) await verifier.verify(token);
    expect(lookups()).toBe(3);
    await verifier.verify(a);
    expect(lookups()).toBe(3);
    expect(await verifier.verify(b)).toMatchObject({ name: 'b' });
    expect(lookups()).toBe(4);
  });
});
