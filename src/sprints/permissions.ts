import { type Catalog, isServiceTeam, onAnyServiceTeam, requireService, type ServiceConfig } from '../catalog';
import { forbidden } from '../errors';
import { mayManageSubscriptions, refusals } from './model';

/** The refusals of sprints as errors, each naming who to ask when the catalog knows. */

export function requireServiceTeam(catalog: Catalog, serviceName: string, actor: string): void {
  if (isServiceTeam(catalog, serviceName, actor)) return;
  throw forbidden('not_on_service_team', `${refusals.notOnServiceTeam(serviceName)} ${whoToAsk(requireService(catalog, serviceName))}`);
}

export function requireAnyServiceTeam(catalog: Catalog, actor: string): void {
  if (!onAnyServiceTeam(catalog, actor)) throw forbidden('not_on_service_team', refusals.notOnAnyServiceTeam);
}

export function requireSubscriptionManager(catalog: Catalog, serviceName: string, actor: string): void {
  if (mayManageSubscriptions(catalog, serviceName, actor)) return;
  throw forbidden('not_owner_or_approver', `${refusals.notSubscriptionManager(serviceName)} ${whoToAsk(requireService(catalog, serviceName))}`);
}

function whoToAsk(service: ServiceConfig): string {
  return service.owners.length > 0
    ? `Ask ${service.owners.map((owner) => `<@${owner}>`).join(' or ')}.`
    : 'The catalog lists no owners for it yet (services.<name>.owners in tandem.yaml).';
}
