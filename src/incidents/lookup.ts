import type { Database } from '../db/client';
import type { IncidentRow } from '../db/schema';
import { notFound } from '../errors';
import { findByReference } from '../references';
import * as store from './store';

export async function requireIncident(db: Database, id: string): Promise<IncidentRow> {
  const incident = await store.findIncidentById(db, id);
  if (!incident) throw notFound('incident_not_found', 'That incident does not exist.');
  return incident;
}

/** Finds an incident by its id or its key (`INC-17`). */
export function findIncidentByReference(db: Database, reference: string): Promise<IncidentRow | undefined> {
  return findByReference(reference, 'INC', {
    byId: (id) => store.findIncidentById(db, id),
    byNumber: (number) => store.findIncidentByNumber(db, number),
  });
}
