import { dayMs } from '../time';
import { deleteMessagesArchivedBefore } from './conversation-store';
import type { IncidentDeps } from './deps';

/**
 * Forgets the stored conversation of incidents whose channel was archived more than
 * `incidents.message_retention_days` ago; the messages on their timeline stay, as the
 * incident's record. Deleting is idempotent, so every instance may run it.
 */
export async function pruneConversations(deps: Pick<IncidentDeps, 'db' | 'clock' | 'catalog' | 'logger'>): Promise<number> {
  const days = deps.catalog.incidents.message_retention_days;
  const deleted = await deleteMessagesArchivedBefore(deps.db, new Date(deps.clock.now().getTime() - days * dayMs));
  if (deleted > 0) deps.logger.info({ deleted }, 'forgot the stored messages of archived incident channels');
  return deleted;
}
