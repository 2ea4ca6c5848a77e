import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeRow } from '../db/schema';
import { conflict } from '../errors';
import { findByReference } from '../references';
import type { Clock } from '../time';
import type { Work } from '../unit-of-work';
import { incidentNotice, requesterMessages } from './messaging';
import { changeKey } from './model';
import * as store from './store';
import { markFailed, refreshMessages, threadNotice } from './transitions';

/**
 * An incident was caused by this change: it counts as failed. Runs inside the
 * caller's (the incident's) unit of work, which sends the change's messages.
 * The change's messages reach its approval channel and requester, who may be
 * outside a private incident's channel, so they name a private incident by kind only.
 */
export async function attributeIncident(
  { tx, send }: Work,
  context: { catalog: Catalog; clock: Clock },
  change: ChangeRow,
  incident: { key: string; private: boolean },
  actor: string,
): Promise<ChangeRow> {
  const incidentKey = incident.key;
  const named = incident.private ? 'a private incident' : incidentKey;
  const refusal = change.status === 'pending' || change.status === 'rejected' || change.status === 'cancelled';
  if (refusal) {
    throw conflict('change_never_deployed', `${changeKey(change.number)} is ${change.status} and was never deployed, so it cannot have caused ${incidentKey}.`);
  }
  const now = context.clock.now();
  const failed = await markFailed(tx, change, `caused ${named}`, actor, now);
  const notice = incidentNotice(failed, named);
  await send([
    ...(await threadNotice(tx, context.catalog, failed, notice, `incident-${incidentKey}`)),
    ...(await refreshMessages(tx, context.catalog, failed)),
    ...requesterMessages(failed, notice, `incident-${incidentKey}`),
  ]);
  return failed;
}

/** Finds a change by its id or its key (`CHG-42`). */
export function findChangeByReference(db: Database, reference: string): Promise<ChangeRow | undefined> {
  return findByReference(reference, 'CHG', {
    byId: (id) => store.findChangeById(db, id),
    byNumber: (number) => store.findChangeByNumber(db, number),
  });
}
