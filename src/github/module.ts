import type { RequestListener } from 'node:http';
import { changeDepsOf } from '../changes/module';
import * as changes from '../changes/store';
import type { GitHubConfig } from '../config';
import type { DomainModule, ModuleContext } from '../module';
import { GitHubCallWorker } from './calls';
import { GitHubApp } from './client';
import type { GitHubDeps } from './deps';
import { syncGate } from './gate';
import { reconcileCron, reconcileGates, reconcileJob } from './scheduled';
import * as store from './store';
import { createWebhookHandler } from './webhooks';

export interface GitHubModule extends DomainModule {
  /** The handler of POST /github/webhooks. */
  webhooks: RequestListener;
}

/** GitHub environments gated by Tandem: protection-rule webhooks become changes, decisions go back to the runs. */
export function createGitHub(ctx: ModuleContext, config: GitHubConfig): GitHubModule {
  const github = new GitHubApp(config, ctx.clock);
  const calls = new GitHubCallWorker({ db: ctx.db, clock: ctx.clock, logger: ctx.logger, github });
  const deps: GitHubDeps = { ...changeDepsOf(ctx), github, calls, background: ctx.background, webhookSecret: config.webhookSecret };
  const handler = createWebhookHandler(deps);
  // A gated change's votes and decisions, wherever they happen in this instance, go to its run.
  ctx.events.subscribe((event) => {
    if (event.kind !== 'change') return;
    ctx.background.run(async () => {
      const gate = await store.findGateOfChange(ctx.db, event.change.id);
      if (!gate) return;
      const change = (await changes.findChangeById(ctx.db, event.change.id)) ?? event.change;
      await syncGate(deps, gate, change);
    });
  });
  return {
    webhooks: (req, res) => void handler(req, res).catch((error) => {
      ctx.logger.error({ err: error }, 'github webhook handler crashed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'internal_error', message: 'Tandem could not complete the request.' } }));
      }
    }),
    schedules: [
      // Missed webhooks, failed deliveries and decisions never queued, caught up every five minutes.
      { name: reconcileJob, cron: reconcileCron, timeZone: ctx.timeZone, run: async () => void (await reconcileGates(deps, ctx.timeZone)) },
    ],
    start: async () => calls.start(),
    idle: () => calls.drain(),
    stop: () => calls.stop(),
  };
}
