import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import type { GitHubConfig } from '../config';
import type { Clock } from '../time';

/** How long before an installation token's expiry it is renewed: GitHub's last minutes of a token are not worth the risk. */
const renewBeforeMs = 5 * 60_000;
const requestTimeoutMs = 10_000;

/** An answer from GitHub, or the failure to get one (status undefined: the network). */
export interface GitHubAnswer {
  status: number | undefined;
  data: unknown;
  message: string;
  retryAfterSeconds?: number;
}

/**
 * Installation tokens, cached until shortly before the expiry GitHub gave them, read
 * against Tandem's clock (the library's own cache keeps tokens 59 minutes whatever
 * GitHub said). Shared by every installation's client; auth-app stores its entries as
 * `token|createdAt|expiresAt|…`.
 */
export function tokenCache(clock: Clock) {
  const entries = new Map<string, string>();
  return {
    async get(key: string): Promise<string | undefined> {
      const value = entries.get(key);
      const expiresAt = value ? Date.parse(value.split('|')[2] ?? '') : Number.NaN;
      if (value && Number.isFinite(expiresAt) && expiresAt - renewBeforeMs > clock.now().getTime()) return value;
      entries.delete(key);
      return undefined;
    },
    async set(key: string, value: string): Promise<void> {
      entries.set(key, value);
    },
  };
}

/**
 * Tandem as a GitHub App: the App's JWT for app-level calls (which installation has a
 * repository), an installation token for everything else, both from @octokit/auth-app.
 */
export class GitHubApp {
  private readonly app: Octokit;
  private readonly installations = new Map<number, Octokit>();
  private readonly cache;

  constructor(
    private readonly config: GitHubConfig,
    clock: Clock,
  ) {
    this.cache = tokenCache(clock);
    this.app = this.octokit({ appId: config.appId, privateKey: config.privateKey });
  }

  private octokit(auth: Record<string, unknown>): Octokit {
    return new Octokit({
      authStrategy: createAppAuth,
      auth: { ...auth, cache: this.cache },
      baseUrl: this.config.apiUrl.replace(/\/+$/, ''),
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  private installation(installationId: number): Octokit {
    let client = this.installations.get(installationId);
    if (!client) {
      client = this.octokit({ appId: this.config.appId, privateKey: this.config.privateKey, installationId });
      this.installations.set(installationId, client);
    }
    return client;
  }

  /** The installation of the App on a repository (GET /repos/{owner}/{repo}/installation, with the App's JWT). */
  async installationOf(repository: string): Promise<number | undefined> {
    const answer = await this.send(this.app, 'GET', `/repos/${repository}/installation`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`GitHub answered ${answer.status ?? 'nothing'} for the installation of ${repository}: ${answer.message}`);
    return (answer.data as { id: number }).id;
  }

  /** A call as the installation; never throws for GitHub's answer, so the caller decides what a status means. */
  request(installationId: number, method: string, path: string, body?: Record<string, unknown>): Promise<GitHubAnswer> {
    return this.send(this.installation(installationId), method, path, body);
  }

  /** Like request(), but a non-2xx answer is an error: for reads whose answer is needed. */
  async read(installationId: number, path: string): Promise<unknown> {
    const answer = await this.request(installationId, 'GET', path);
    if (answer.status === undefined || answer.status >= 300) throw new Error(`GitHub answered ${answer.status ?? 'nothing'} for GET ${path}: ${answer.message}`);
    return answer.data;
  }

  private async send(client: Octokit, method: string, path: string, body?: Record<string, unknown>): Promise<GitHubAnswer> {
    try {
      const response = await client.request(`${method} ${path}`, {
        ...(body ?? {}),
        headers: { 'x-github-api-version': '2022-11-28' },
        request: { signal: AbortSignal.timeout(requestTimeoutMs) },
      });
      return { status: response.status, data: response.data, message: 'ok' };
    } catch (error) {
      const failure = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined>; data?: unknown } };
      // @octokit/request reports a failed fetch as status 500 with no response.
      const status = failure.response ? failure.status : undefined;
      const retryAfter = failure.response?.headers?.['retry-after'];
      return { status, data: failure.response?.data, message: failure.message ?? String(error), retryAfterSeconds: retryAfter ? Number(retryAfter) : undefined };
    }
  }
}
