import { integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

/** REST API bearer tokens. Only the SHA-256 of a token is kept. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    tokenHash: text().notNull(),
    scopes: text().array().notNull(),
    createdAt: timestamptz().notNull(),
    lastUsedAt: timestamptz(),
    revokedAt: timestamptz(),
  },
  (table) => [
    uniqueIndex('api_tokens_name_key').on(table.name),
    uniqueIndex('api_tokens_token_hash_key').on(table.tokenHash),
  ],
);

/** First answers to POSTs carrying an Idempotency-Key, replayed to retries of the same request. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tokenId: uuid()
      .notNull()
      .references(() => apiTokens.id),
    key: text().notNull(),
    fingerprint: text().notNull(),
    responseStatus: integer(),
    responseBody: jsonb(),
    createdAt: timestamptz().notNull(),
    /** While the first request runs, a concurrent retry is told to wait; after this, it may take over. */
    lockedUntil: timestamptz().notNull(),
  },
  (table) => [primaryKey({ name: 'idempotency_keys_pkey', columns: [table.tokenId, table.key] })],
);

export type ApiTokenRow = typeof apiTokens.$inferSelect;
