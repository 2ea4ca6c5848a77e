import type { DomainModule, ModuleContext } from '../module';
import { type HomeDeps, register } from './slack';

/** The App Home and `/tandem`. */
export function createHome(ctx: ModuleContext): DomainModule {
  const deps: HomeDeps = ctx;
  // Every `/tandem` text only reads: help, KPIs, or a word it does not know.
  return { register: (app) => register(app, deps), readOnlyCommands: { '/tandem': () => true } };
}
