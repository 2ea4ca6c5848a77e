import { createHash, randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type ApiTokenRow, apiTokens } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import type { Clock } from '../time';
import { ExpiringLru } from './expiring-lru';

/** `incidents:private` grants no route by itself: it adds private incidents to what a token's other scopes show. */
export const apiScopes = ['incidents:write', 'changes:write', 'deployments:write', 'sprints:write', 'read', 'incidents:private'] as const;
export type ApiScope = (typeof apiScopes)[number];

export interface ApiToken {
  id: string;
  name: string;
  scopes: ApiScope[];
}

const tokenPrefix = 'tdm_';
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Only this digest is stored; the token itself is shown once, at creation. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function isApiScope(value: string): value is ApiScope {
  return (apiScopes as readonly string[]).includes(value);
}

export async function createApiToken(
  db: Database,
  clock: Clock,
  input: { name: string; scopes: string[] },
): Promise<{ token: string; record: ApiTokenRow }> {
  if (!namePattern.test(input.name)) {
    throw invalid('invalid_name', 'A token name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.');
  }
  const unknown = input.scopes.filter((scope) => !isApiScope(scope));
  if (unknown.length > 0) {
    throw invalid('invalid_scope', `Unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}. Scopes: ${apiScopes.join(', ')}.`);
  }
  const scopes = [...new Set(input.scopes.length > 0 ? input.scopes : ['read'])];
  const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
  const [record] = await db
    .insert(apiTokens)
    .values({ name: input.name, tokenHash: hashToken(token), scopes, createdAt: clock.now() })
    .onConflictDoNothing()
    .returning();
  if (!record) throw conflict('name_taken', `A token named "${input.name}" already exists; revoke it or pick another name.`);
  return { token, record };
}

export async function listApiTokens(db: Database): Promise<ApiTokenRow[]> {
  return db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.name));
}

export async function revokeApiToken(db: Database, clock: Clock, name: string): Promise<ApiTokenRow> {
  const token = await db.query.apiTokens.findFirst({ where: eq(apiTokens.name, name) });
  if (!token) throw notFound('token_not_found', `There is no token named "${name}".`);
  if (token.revokedAt) return token;
  const [revoked] = await db.update(apiTokens).set({ revokedAt: clock.now() }).where(eq(apiTokens.id, token.id)).returning();
  return revoked ?? token;
}

/** What `createApiToken` mints: the prefix and 32 random bytes in base64url. */
const tokenFormat = new RegExp(`^${tokenPrefix}[A-Za-z0-9_-]{43}$`);

/**
 * Resolves bearer tokens. Answers are cached briefly so the hot path (pipelines
 * polling a change) costs no extra query; a revocation takes effect within `ttlMs`.
 * Valid and unknown tokens are cached apart, each bounded, so a flood of made-up
 * tokens never evicts a real one; one that is not even shaped like a token costs no
 * query at all. `last_used_at` is written at most once a minute per token.
 */
export class TokenVerifier {
  private readonly valid: ExpiringLru<ApiToken>;
  private readonly unknown: ExpiringLru<undefined>;
  /** Lookups in flight, so concurrent requests with one new token cost one query. */
  private readonly loading = new Map<string, Promise<ApiToken | undefined>>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    ttlMs = 10_000,
    capacity = { valid: 10_000, unknown: 1_000 },
  ) {
    this.valid = new ExpiringLru(capacity.valid, ttlMs);
    // Short-lived: it only needs to absorb a client retrying the same bad token.
    this.unknown = new ExpiringLru(capacity.unknown, Math.min(ttlMs, 5_000));
  }

  async verify(presented: string): Promise<ApiToken | undefined> {
    if (!tokenFormat.test(presented)) return undefined;
    const digest = hashToken(presented);
    const now = this.clock.now().getTime();
    const cached = this.valid.get(digest, now) ?? this.unknown.get(digest, now);
    const token = cached ? cached.value : await this.loadOnce(digest, now);
    if (token && (this.touched.get(token.id) ?? 0) < now - 60_000) {
      this.touched.set(token.id, now);
      await this.db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, token.id));
    }
    return token;
  }

  private loadOnce(digest: string, now: number): Promise<ApiToken | undefined> {
    let loading = this.loading.get(digest);
    if (!loading) {
      loading = this.load(digest, now).finally(() => this.loading.delete(digest));
      this.loading.set(digest, loading);
    }
    return loading;
  }

  private async load(digest: string, now: number): Promise<ApiToken | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, digest));
    if (!row || row.revokedAt) {
      this.unknown.set(digest, undefined, now);
      return undefined;
    }
    const token = { id: row.id, name: row.name, scopes: row.scopes.filter(isApiScope) };
    this.valid.set(digest, token, now);
    return token;
  }
}
