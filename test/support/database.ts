import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type DatabaseHandle, inMemory, openDatabase } from '../../src/db/client';
import { withDatabase } from './global-setup';

export interface TestDatabase {
  handle: DatabaseHandle;
  /** The postgres URL, or undefined on PGlite. */
  url: string | undefined;
  /** Opens a second, independent connection pool to the same database (a second app instance). */
  openAnother(): Promise<DatabaseHandle>;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file: a copy of the template on PostgreSQL, or PGlite in memory. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = inject('postgres');
  if (!server) {
    const handle = await openDatabase({ url: undefined, dataDir: inMemory });
    await handle.migrate();
    return {
      handle,
      url: undefined,
      openAnother: () => Promise.reject(new Error('a second instance needs PostgreSQL')),
      drop: () => handle.close(),
    };
  }
  const name = `tandem_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin.unsafe(`create database ${name} template ${server.template}`);
      break;
    } catch (error) {
      // Two files copying the template at the same moment: wait and copy again.
      if (attempt > 20 || !String((error as Error).message).includes('being accessed by other users')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    }
  }
  const url = withDatabase(server.adminUrl, name);
  const handle = await openDatabase({ url, dataDir: '' });
  const extra: DatabaseHandle[] = [];
  return {
    handle,
    url,
    async openAnother() {
      const another = await openDatabase({ url, dataDir: '' });
      extra.push(another);
      return another;
    },
    async drop() {
      await Promise.all([handle, ...extra].map((h) => h.close().catch(() => {})));
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}
