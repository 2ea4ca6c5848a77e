import { approversOf, type Catalog, findService, policyOf, serviceNames } from '../catalog';
import { currentBudgetSprints } from '../changes/budget-sprints';
import { votableServices } from '../changes/model';
import { pendingApprovalsFor } from '../changes/store';
import type { ChangeRow, IncidentRow } from '../db/schema';
import { type Board, openIncidentsFor, sprintBoard } from './store';
import { homeViewers } from '../db/schema';
import { type DeliveryKpis, deliveryKpis, type MetricsDeps } from '../metrics/service';
import { and, gte, inArray } from 'drizzle-orm';

export interface HomeData {
  viewer: string;
  /** The viewer's services (owner, on-call or approver); empty means the board shows every service. */
  services: string[];
  /** Changes the viewer may still vote on: the exact number, and the oldest of them. */
  pendingApprovals: { total: number; oldest: ChangeRow[] };
  /** The sprints the board shows: each service's current one (the same for all on a shared cadence). */
  sprints: string[];
  board: Board;
  /** Open incidents the viewer may see; `hiddenPrivate` counts the private ones they are not known to be in. */
  openIncidents: { total: number; latest: IncidentRow[]; hiddenPrivate: number };
  kpis: DeliveryKpis[];
}

/** How many rows each part of the Home reads at most; the view summarises the rest. */
export const homeLimits = { approvals: 8, boardPerColumn: 6, incidents: 10, kpiServices: 3 } as const;
export const kpiWindowDays = 30;

export async function gatherHome(deps: MetricsDeps, viewer: string): Promise<HomeData> {
  const { db, catalog, clock } = deps;
  const now = clock.now();
  const services = servicesOf(catalog, viewer);
  const currentSprints = await currentBudgetSprints(db, deps, services.length > 0 ? services : serviceNames(catalog), now);
  const settledAfterHours = (service: string) => policyOf(catalog, findService(catalog, service)).attribution_hours;
  const approves = votableServices(catalog, viewer);
  const [pendingApprovals, board, openIncidents] = await Promise.all([
    pendingApprovalsFor(db, { voter: viewer, services: approves, limit: homeLimits.approvals }),
    sprintBoard(db, currentSprints, settledAfterHours, now, homeLimits.boardPerColumn),
    openIncidentsFor(db, viewer, homeLimits.incidents),
  ]);
  const window = { from: new Date(now.getTime() - kpiWindowDays * 86_400_000), to: now };
  const kpis = await Promise.all(services.slice(0, homeLimits.kpiServices).map((service) => deliveryKpis(deps, window, service)));
  return {
    viewer,
    services,
    pendingApprovals,
    sprints: [...new Set(currentSprints.values())].sort(),
    board,
    openIncidents,
    kpis,
  };
}

/** Services the person owns, is on call for, or approves changes of. */
export function servicesOf(catalog: Catalog, user: string): string[] {
  return Object.entries(catalog.services)
    .filter(([, service]) => service.owners.includes(user) || service.oncall.includes(user) || approversOf(catalog, service).has(user))
    .map(([name]) => name)
    .sort();
}

/** Remembers who opened the Home, so it can be refreshed for them later. */
export async function rememberHomeViewer(deps: MetricsDeps, user: string): Promise<void> {
  const now = deps.clock.now();
  await deps.db.insert(homeViewers).values({ userId: user, lastOpenedAt: now }).onConflictDoUpdate({
    target: homeViewers.userId,
    set: { lastOpenedAt: now },
  });
}

/** Of these people (or everyone), those who opened the Home in the last month. */
export async function recentHomeViewers(deps: MetricsDeps, among?: string[]): Promise<string[]> {
  const since = new Date(deps.clock.now().getTime() - 30 * 86_400_000);
  const recent = gte(homeViewers.lastOpenedAt, since);
  const rows = await deps.db
    .select({ userId: homeViewers.userId })
    .from(homeViewers)
    .where(among ? and(recent, inArray(homeViewers.userId, among.length > 0 ? among : [''])) : recent);
  return rows.map((row) => row.userId);
}
