import { createHash, randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type ApiTokenRow, apiTokens } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import type { Clock } from '../time';

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

export function isApiScope(value: string): value is ApiScope {
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

/**
 * Resolves bearer tokens. Answers are cached briefly so the hot path (pipelines
 * polling a change) costs no extra query; a revocation takes effect within `ttlMs`.
 * `last_used_at` is written at most once a minute per token.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, { token: ApiToken | undefined; expires: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly ttlMs = 10_000,
  ) {}

  async verify(presented: string): Promise<ApiToken | undefined> {
    if (!presented.startsWith(tokenPrefix)) return undefined;
    const digest = hashToken(presented);
    const now = this.clock.now().getTime();
    const cached = this.cache.get(digest);
    const token = cached && cached.expires > now ? cached.token : await this.load(digest, now);
    if (token && (this.touched.get(token.id) ?? 0) < now - 60_000) {
      this.touched.set(token.id, now);
      await this.db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, token.id));
    }
    return token;
  }

  private async load(digest: string, now: number): Promise<ApiToken | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, digest));
    const token =
      row && !row.revokedAt ? { id: row.id, name: row.name, scopes: row.scopes.filter(isApiScope) } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(digest, { token, expires: now + this.ttlMs });
    return token;
  }
}
