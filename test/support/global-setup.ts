import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client';

/**
 * Finds PostgreSQL (TEST_DATABASE_URL, else the local server) and prepares a
 * migrated template database that each test file copies. Without PostgreSQL the
 * tests run on PGlite; TANDEM_TEST_DB=pglite forces that.
 */
export default async function setup(project: TestProject) {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  const reachable =
    process.env.TANDEM_TEST_DB !== 'pglite' &&
    (await admin`select 1`.then(
      () => true,
      () => false,
    ));
  if (!reachable) {
    await admin.end({ timeout: 1 }).catch(() => {});
    project.provide('postgres', null);
    console.log('[tandem tests] PostgreSQL not reachable: using the embedded PGlite database');
    return;
  }
  const template = `tandem_template_${process.pid}`;
  await admin.unsafe(`drop database if exists ${template}`);
  await admin.unsafe(`create database ${template}`);
  const templateUrl = withDatabase(adminUrl, template);
  const handle = await openDatabase({ url: templateUrl, dataDir: '' });
  await handle.migrate();
  await handle.close();
  project.provide('postgres', { adminUrl, template });
  console.log('[tandem tests] using PostgreSQL at', new URL(adminUrl).host);

  return async () => {
    await admin.unsafe(`drop database if exists ${template} with (force)`);
    await admin.end({ timeout: 5 });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { adminUrl: string; template: string } | null;
  }
}
