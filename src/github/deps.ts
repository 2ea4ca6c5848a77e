import type { BackgroundWork } from '../background';
import type { ChangeDeps } from '../changes/module';
import type { GitHubCallWorker } from './calls';
import type { GitHubApp } from './client';

/** What the GitHub gate's use cases are given: what the change use cases need, GitHub and the call worker. */
export interface GitHubDeps extends ChangeDeps {
  github: GitHubApp;
  calls: GitHubCallWorker;
  background: BackgroundWork;
  webhookSecret: string;
}
