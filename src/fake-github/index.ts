import { createPublicKey, randomUUID, verify as verifySignature } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks } from '@octokit/webhooks';

/**
 * The stand-in GitHub: the REST endpoints Tandem's GitHub App uses, answering with
 * GitHub's shapes and errors from a small in-memory state, on a real local HTTP
 * server, and webhooks signed the way GitHub signs them. It imports nothing from Tandem.
 */

export interface FakeRun {
  id: number;
  /** The workflow's name. */
  name: string;
  headSha: string;
  headBranch: string;
  /** The head commit's message. */
  message: string;
  authorEmail?: string;
  actor: string;
  /** GitHub environments waiting on a custom protection rule. */
  waiting: string[];
  committedAt: string;
}

interface FakeRepository {
  fullName: string;
  id: number;
  installationId: number;
  runs: Map<number, FakeRun>;
}

export interface RecordedCallback {
  repository: string;
  runId: number;
  body: Record<string, unknown>;
  /** What the fake answered. */
  status: number;
}

interface IssuedToken {
  installationId: number;
  expiresAt: number;
}

export interface FakeGitHubOptions {
  appId: string;
  /** The App's private key; tokens are granted only to JWTs it signed. */
  privateKey: string;
  /** The fake's idea of now (a test clock), for token expiry. */
  now?: () => number;
  /** How long an installation token lives; GitHub's is an hour. */
  tokenTtlMs?: number;
}

type Failure = { status: number } | { network: true };

export class FakeGitHub {
  private readonly repositories = new Map<string, FakeRepository>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly publicKey;
  private readonly now: () => number;
  private nextId = 1000;
  /** Failures answered, in order, to the next protection-rule callbacks. */
  private readonly callbackFailures: Failure[] = [];
  /** Environments of runs already approved or rejected: a second decision gets 422. */
  private readonly decided = new Set<string>();
  readonly callbacks: RecordedCallback[] = [];
  /** Emits `callback` with each RecordedCallback as it is answered. */
  readonly events = new EventEmitter().setMaxListeners(0);
  tokensIssued = 0;
  /** Requests answered, as `METHOD path` (without the query). */
  readonly requests: string[] = [];
  tokenTtlMs: number;

  constructor(private readonly options: FakeGitHubOptions) {
    this.publicKey = createPublicKey(options.privateKey);
    this.now = options.now ?? Date.now;
    this.tokenTtlMs = options.tokenTtlMs ?? 60 * 60_000;
  }

  addRepository(fullName: string, installationId = 77): void {
    this.repositories.set(fullName.toLowerCase(), { fullName, id: this.nextId++, installationId, runs: new Map() });
  }

  addRun(repository: string, run: Partial<FakeRun> & { waiting: string[] }): FakeRun {
    const repo = this.repository(repository);
    const id = run.id ?? this.nextId++;
    const full: FakeRun = {
      id,
      name: 'Deploy',
      headSha: `${id.toString(16).padStart(8, '0')}${'0'.repeat(32)}`,
      headBranch: 'main',
      message: `Ship change ${id}\n\nLonger description`,
      actor: 'octocat',
      committedAt: new Date(this.now() - 3_600_000).toISOString(),
      ...run,
    };
    full.id = id;
    repo.runs.set(id, full);
    return full;
  }

  run(repository: string, runId: number): FakeRun | undefined {
    return this.repository(repository).runs.get(runId);
  }

  /** Requests whose `METHOD path` matches are answered with this status, `times` times. */
  private readonly injected: Array<{ pattern: RegExp; status: number; times: number }> = [];

  failRequests(pattern: RegExp, status: number, times = 1): void {
    this.injected.push({ pattern, status, times });
  }

  /** The next callbacks fail this way, one failure each. */
  failCallbacks(...failures: Failure[]): void {
    this.callbackFailures.push(...failures);
  }

  /** Decisions sent for a run (approved or rejected), in order. */
  decisions(runId: number): RecordedCallback[] {
    return this.callbacks.filter((call) => call.runId === runId && call.body.state !== undefined && call.status >= 200 && call.status < 300);
  }

  comments(runId: number): string[] {
    return this.callbacks.filter((call) => call.runId === runId && call.body.state === undefined && call.status >= 200 && call.status < 300).map((call) => String(call.body.comment));
  }

  private repository(fullName: string): FakeRepository {
    const repo = this.repositories.get(fullName.toLowerCase());
    if (!repo) throw new Error(`the fake GitHub has no repository ${fullName}`);
    return repo;
  }

  // ---- webhooks, as GitHub sends them ----

  /** A `deployment_protection_rule` payload for a waiting environment of a run. */
  protectionRuleRequested(repository: string, run: FakeRun, environment: string, apiUrl: string): Record<string, unknown> {
    const repo = this.repository(repository);
    return {
      action: 'requested',
      environment,
      event: 'push',
      ref: `refs/heads/${run.headBranch}`,
      sha: run.headSha,
      deployment_callback_url: `${apiUrl}repos/${repo.fullName}/actions/runs/${run.id}/deployment_protection_rule`,
      deployment: { id: this.nextId++, sha: run.headSha, ref: run.headBranch, environment, task: 'deploy' },
      pull_requests: [],
      repository: this.repositoryPayload(repo),
      installation: { id: repo.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u' },
      sender: { login: run.actor, id: 1, type: 'User' },
    };
  }

  /** A `deployment_status` payload: a run's deployment to an environment finished. */
  deploymentStatus(
    repository: string,
    run: FakeRun,
    environment: string,
    state: 'success' | 'failure' | 'error' | 'in_progress',
    times: { createdAt: string; finishedAt: string },
    statusId = this.nextId++,
  ): Record<string, unknown> {
    const repo = this.repository(repository);
    const targetUrl = `https://github.com/${repo.fullName}/actions/runs/${run.id}`;
    return {
      action: 'created',
      deployment_status: { id: statusId, state, environment, target_url: targetUrl, log_url: targetUrl, created_at: times.finishedAt, updated_at: times.finishedAt },
      deployment: { id: this.nextId++, sha: run.headSha, ref: run.headBranch, environment, created_at: times.createdAt, updated_at: times.finishedAt },
      workflow_run: { id: run.id, name: run.name, head_sha: run.headSha, html_url: targetUrl },
      repository: this.repositoryPayload(repo),
      installation: { id: repo.installationId },
      sender: { login: run.actor, id: 1, type: 'User' },
    };
  }

  private repositoryPayload(repo: FakeRepository) {
    const [owner] = repo.fullName.split('/');
    return { id: repo.id, name: repo.fullName.split('/')[1], full_name: repo.fullName, private: false, owner: { login: owner } };
  }

  // ---- the REST API ----

  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://github.local');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/api\/v3/, '');
    this.requests.push(`${method} ${path}`);
    const body = await readBody(req);
    const send = (status: number, payload?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-request-id': randomUUID() });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const error = (status: number, message: string) => send(status, { message, documentation_url: 'https://docs.github.com/rest', status: String(status) });
    const injected = this.injected.find((entry) => entry.times > 0 && entry.pattern.test(`${method} ${path}`));
    if (injected) {
      injected.times -= 1;
      return error(injected.status, injected.status >= 500 ? 'Server Error' : 'Failure');
    }

    let match = path.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (match && method === 'POST') {
      if (!this.validJwt(req.headers.authorization)) return error(401, 'A JSON web token could not be decoded');
      const installationId = Number(match[1]);
      if (![...this.repositories.values()].some((repo) => repo.installationId === installationId)) return error(404, 'Not Found');
      const token = `ghs_${randomUUID().replaceAll('-', '')}`;
      const expiresAt = this.now() + this.tokenTtlMs;
      this.tokens.set(token, { installationId, expiresAt });
      this.tokensIssued += 1;
      return send(201, {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { actions: 'read', deployments: 'write', metadata: 'read' },
        repository_selection: 'selected',
      });
    }
    match = path.match(/^\/repos\/([^/]+\/[^/]+)\/installation$/);
    if (match && method === 'GET') {
      if (!this.validJwt(req.headers.authorization)) return error(401, 'A JSON web token could not be decoded');
      const repo = this.repositories.get(match[1]!.toLowerCase());
      if (!repo) return error(404, 'Not Found');
      return send(200, { id: repo.installationId, app_id: Number(this.options.appId), target_type: 'Organization', account: { login: repo.fullName.split('/')[0] } });
    }
    match = path.match(/^\/repos\/([^/]+\/[^/]+)\/(.*)$/);
    if (!match) return error(404, 'Not Found');
    const repo = this.repositories.get(match[1]!.toLowerCase());
    const auth = this.installationOf(req.headers.authorization);
    if (auth === 'expired' || auth === undefined) return error(401, 'Bad credentials');
    if (!repo || repo.installationId !== auth) return error(404, 'Not Found');
    const rest = match[2]!;

    if (rest === 'actions/runs' && method === 'GET') {
      const status = url.searchParams.get('status');
      const runs = [...repo.runs.values()].filter((run) => status !== 'waiting' || this.waitingOf(run).length > 0);
      return send(200, { total_count: runs.length, workflow_runs: runs.map((run) => this.runPayload(repo, run)) });
    }
    match = rest.match(/^actions\/runs\/(\d+)$/);
    if (match && method === 'GET') {
      const run = repo.runs.get(Number(match[1]));
      return run ? send(200, this.runPayload(repo, run)) : error(404, 'Not Found');
    }
    match = rest.match(/^actions\/runs\/(\d+)\/pending_deployments$/);
    if (match && method === 'GET') {
      const run = repo.runs.get(Number(match[1]));
      if (!run) return error(404, 'Not Found');
      return send(
        200,
        this.waitingOf(run).map((name) => ({
          environment: { id: this.nextId++, name, html_url: `https://github.com/${repo.fullName}/deployments/activity_log?environments_filter=${name}` },
          wait_timer: 0,
          wait_timer_started_at: null,
          current_user_can_approve: false,
          reviewers: [],
        })),
      );
    }
    match = rest.match(/^actions\/runs\/(\d+)\/deployment_protection_rule$/);
    if (match && method === 'POST') {
      const runId = Number(match[1]);
      const run = repo.runs.get(runId);
      const parsed = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
      const record = (status: number) => {
        const call = { repository: repo.fullName, runId, body: parsed, status };
        this.callbacks.push(call);
        this.events.emit('callback', call);
      };
      const failure = this.callbackFailures.shift();
      if (failure && 'network' in failure) {
        record(0);
        req.socket.destroy();
        return;
      }
      if (failure) {
        record(failure.status);
        return error(failure.status, failure.status >= 500 ? 'Server Error' : 'Failure');
      }
      const environment = String(parsed.environment_name ?? '');
      if (!run || !run.waiting.includes(environment) || this.decided.has(`${runId}:${environment}`)) {
        record(422);
        return error(422, 'No pending deployment requests to approve or reject');
      }
      if (parsed.state === 'approved' || parsed.state === 'rejected') {
        this.decided.add(`${runId}:${environment}`);
      }
      record(204);
      return send(204);
    }
    match = rest.match(/^commits\/([0-9a-f]+)$/);
    if (match && method === 'GET') {
      const run = [...repo.runs.values()].find((candidate) => candidate.headSha === match![1]);
      if (!run) return error(422, `No commit found for SHA: ${match[1]}`);
      return send(200, {
        sha: run.headSha,
        html_url: `https://github.com/${repo.fullName}/commit/${run.headSha}`,
        commit: {
          message: run.message,
          author: { name: run.actor, email: run.authorEmail ?? `${run.actor}@users.noreply.github.com`, date: run.committedAt },
          committer: { name: 'GitHub', email: 'noreply@github.com', date: run.committedAt },
        },
      });
    }
    return error(404, 'Not Found');
  };

  private waitingOf(run: FakeRun): string[] {
    return run.waiting.filter((environment) => !this.decided.has(`${run.id}:${environment}`));
  }

  private runPayload(repo: FakeRepository, run: FakeRun) {
    return {
      id: run.id,
      name: run.name,
      display_title: run.message.split('\n')[0],
      head_branch: run.headBranch,
      head_sha: run.headSha,
      event: 'push',
      status: this.waitingOf(run).length > 0 ? 'waiting' : 'in_progress',
      html_url: `https://github.com/${repo.fullName}/actions/runs/${run.id}`,
      actor: { login: run.actor },
      triggering_actor: { login: run.actor },
      head_commit: {
        id: run.headSha,
        message: run.message,
        timestamp: run.committedAt,
        author: { name: run.actor, email: run.authorEmail ?? `${run.actor}@users.noreply.github.com` },
      },
      repository: { full_name: repo.fullName },
    };
  }

  /** An App JWT: RS256, signed by the App's key, issued by its ID, not expired. */
  private validJwt(header: string | undefined): boolean {
    const jwt = header?.replace(/^bearer /i, '') ?? '';
    const [head, claims, signature] = jwt.split('.');
    if (!head || !claims || !signature) return false;
    const valid = verifySignature('RSA-SHA256', Buffer.from(`${head}.${claims}`), this.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return false;
    const payload = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number };
    return String(payload.iss) === this.options.appId;
  }

  private installationOf(header: string | undefined): number | 'expired' | undefined {
    const token = header?.match(/^token (.+)$/i)?.[1];
    const issued = token ? this.tokens.get(token) : undefined;
    if (!issued) return undefined;
    return issued.expiresAt <= this.now() ? 'expired' : issued.installationId;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Serves a fake GitHub on a free local port; `apiUrl` is what GITHUB_API_URL should be. */
export async function startFakeGitHub(github: FakeGitHub): Promise<{ apiUrl: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => void github.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The headers GitHub sends with a webhook, signed with the App's webhook secret as GitHub signs it. */
export async function signedWebhook(
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/5a2f3c1',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '424242',
      'x-github-hook-installation-target-type': 'integration',
      'x-github-hook-installation-target-id': '1',
      'x-hub-signature-256': await new Webhooks({ secret }).sign(body),
    },
  };
}
