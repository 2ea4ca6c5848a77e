import { type Catalog, requireService, serviceNames, servicesOfChannel } from '../catalog';
import type { Database } from '../db/client';
import type { CustomerRequestRow, SprintRow } from '../db/schema';
import { invalid, notFound } from '../errors';
import { requestKey } from './model';
import * as store from './store';

/**
 * What a sprint action is about: the service it names or its channel belongs to, the
 * current sprint, a request. Each lookup that fails says what would work instead.
 */

function knownServices(catalog: Catalog): string {
  const known = serviceNames(catalog);
  return known.length > 0 ? `Known services: ${known.join(', ')}.` : 'The catalog lists no services yet (see tandem.yaml).';
}

/**
 * The service a `/sprint` command acts on: the one it names, else the one whose
 * catalog lists the channel it was typed in.
 */
export function serviceForCommand(catalog: Catalog, requested: string | undefined, channel: string): string {
  if (requested) {
    requireService(catalog, requested);
    return requested;
  }
  const candidates = servicesOfChannel(catalog, channel, ['incidents', 'approvals', 'customers']);
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw invalid('ambiguous_service', `This channel belongs to ${candidates.join(' and ')}. Say which with \`service=<name>\`, for example \`service=${candidates[0]}\`.`);
  }
  throw invalid('service_required', `This channel is not one of a service’s channels in the catalog, so say which service with \`service=<name>\`. ${knownServices(catalog)}`);
}

/** The service whose catalog lists `channel` as a customer channel (`requested` when it names one of several). */
export function serviceOfCustomerChannel(catalog: Catalog, channel: string, requested?: string): string {
  const candidates = servicesOfChannel(catalog, channel, ['customers']);
  if (requested) {
    requireService(catalog, requested);
    if (candidates.includes(requested)) return requested;
    throw invalid('not_a_customer_channel', `<#${channel}> is not a customer channel of ${requested}. Add it under services.${requested}.channels.customers in tandem.yaml first.`);
  }
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw invalid('ambiguous_service', `<#${channel}> is a customer channel of ${candidates.join(' and ')}. Say which with \`service=<name>\`.`);
  }
  throw invalid('not_a_customer_channel', `<#${channel}> is not a customer channel of any service. Digests and requests live in customer channels: add it under services.<name>.channels.customers in tandem.yaml.`);
}

/** The service of a new sprint from a tracker that names none: the catalog's only one. */
export function onlyService(catalog: Catalog): string {
  const names = serviceNames(catalog);
  if (names.length === 1) return names[0]!;
  throw invalid('service_required', `Say which service the sprint belongs to. ${knownServices(catalog)}`, [
    { field: 'service', message: 'is required for a new sprint when the catalog lists more than one service' },
  ]);
}

export async function requireCurrentSprint(db: Database, service: string): Promise<SprintRow> {
  const sprint = await store.findCurrentSprint(db, service);
  if (!sprint) throw notFound('no_sprint', `${service} has no sprint yet. Start one with \`/sprint start <name> <start-date> <end-date>\`.`);
  return sprint;
}

export async function requireRequest(db: Database, number: number): Promise<CustomerRequestRow> {
  const request = await store.findRequestByNumber(db, number);
  if (!request) throw notFound('request_not_found', `There is no customer request ${requestKey(number)}. \`/sprint requests\` lists the open ones.`);
  return request;
}

/** The services a request belongs to until a feature answers it: those whose customer channel it was raised in. */
export const servicesOfRequest = (catalog: Catalog, request: CustomerRequestRow) => servicesOfChannel(catalog, request.channel, ['customers']);
