import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { DatabaseConfig } from '../config';
import { boundStatements, type StatementLimits } from './bounded-postgres';
import { projectFile } from '../paths';
import { acquireDataDirLock } from './data-dir-lock';
import * as schema from './schema';

export type Schema = typeof schema;
/** A Drizzle database or transaction; store functions accept either. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'embedded';
  /** True when the database answers `select 1` within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  migrate(): Promise<void>;
  /** Calls `onNotify` for each NOTIFY on `channel`, from any instance; resolves to a function that stops listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const migrationsFolder = projectFile('drizzle');
/** Serialises migrations when several instances start at once against one PostgreSQL. */
const migrationLockId = 7_316_201;

export const inMemory = 'memory://';

export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  return config.url ? openPostgres(config.url) : openEmbedded(config.dataDir);
}

/**
 * While PostgreSQL is unreachable, requests fail fast (503, "cannot reach its
 * database") instead of queueing for the whole outage: a statement waits at most
 * 2 s for a connection, and once sent, 10 s for the server (its own
 * statement_timeout) plus 2 s for a server that stopped answering altogether.
 */
const statementLimits: StatementLimits = { connectionWaitMs: 2_000, answerMs: 12_000 };
const statementTimeoutMs = 10_000;

/** Reconnect delays stay short (0.05 s doubling to 1 s, jittered), so the pool is back within a second of the database. */
const reconnectBackoff = (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);

function openPostgres(url: string): DatabaseHandle {
  const client = postgres(url, {
    max: 10,
    connect_timeout: 2,
    idle_timeout: 30,
    backoff: reconnectBackoff,
    connection: { statement_timeout: statementTimeoutMs },
    onnotice: () => {},
  });
  const db = drizzlePostgres(boundStatements(client, statementLimits), { schema, casing: 'snake_case' });
  return {
    db,
    kind: 'postgres',
    ping: (timeoutMs) => answers(db, timeoutMs),
    async migrate() {
      // One dedicated connection holds the advisory lock for the whole run.
      const single = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        await single`select pg_advisory_lock(${migrationLockId})`;
        await migratePostgres(drizzlePostgres(single), { migrationsFolder });
        await single`select pg_advisory_unlock(${migrationLockId})`;
      } finally {
        await single.end({ timeout: 5 });
      }
    },
    async listen(channel, onNotify) {
      // postgres.js keeps one dedicated connection for LISTEN and re-subscribes after reconnecting.
      const subscription = await client.listen(channel, onNotify);
      return () => subscription.unlisten();
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * PGlite reserves PostgreSQL's default 128 MB of shared buffers inside its own memory;
 * Tandem's tables are small, and 16 MB keeps the embedded database's resident memory
 * about 150 MB lower at first start and on every reopen.
 */
const embeddedSettings = ['-c', 'shared_buffers=16MB'];

/**
 * A freshly initialised data directory, made once by the build (scripts/build.mjs)
 * for the installed PGlite version. Initialising one in place (initdb in a second
 * PGlite instance) peaks near 750 MB of resident memory; unpacking this one stays
 * under 350 MB. Without it (a run from the TypeScript sources before any build),
 * PGlite initialises the directory itself.
 */
function embeddedTemplate(): Blob | undefined {
  const packageJson = path.join(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const template = projectFile(`dist/pglite-${version}.tar.gz`);
  return existsSync(template) ? new Blob([readFileSync(template)]) : undefined;
}

async function openEmbedded(dataDir: string): Promise<DatabaseHandle> {
  const inMemoryDb = dataDir === inMemory;
  let releaseLock = () => {};
  if (!inMemoryDb) {
    mkdirSync(dataDir, { recursive: true });
    releaseLock = acquireDataDirLock(dataDir);
  }
  try {
    // Loaded only for the embedded database: a process on PostgreSQL never pays for PGlite's code.
    const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
    const template = inMemoryDb || !existsSync(path.join(dataDir, 'PG_VERSION')) ? embeddedTemplate() : undefined;
    const client = await PGlite.create(inMemoryDb ? undefined : dataDir, {
      startParams: [...PGlite.defaultStartParams, ...embeddedSettings],
      initDbStartParams: embeddedSettings,
      ...(template ? { loadDataDir: template } : {}),
    });
    const db = drizzlePglite(client, { schema, casing: 'snake_case' });
    return {
      db,
      kind: 'embedded',
      ping: (timeoutMs) => answers(db, timeoutMs),
      migrate: () => migratePglite(db, { migrationsFolder }),
      async listen(channel, onNotify) {
        const stop = await client.listen(channel, onNotify);
        return () => stop();
      },
      async close() {
        if (!client.closed) await client.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

async function answers(db: Database, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([db.execute(sql`select 1`).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
