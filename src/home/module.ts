import type { DomainModule, ModuleContext } from '../module';
import { type HomeDeps, register } from './slack';

/** The App Home and `/tandem`. */
export function createHome(ctx: ModuleContext): DomainModule {
  const deps: HomeDeps = ctx;
  return { register: (app) => register(app, deps) };
}
