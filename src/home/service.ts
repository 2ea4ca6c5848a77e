import { type Catalog, findService, isServiceTeam, policyOf, serviceNames } from '../catalog';
import { type ChangeCalendar, currentBudgetSprints, gatherCalendar } from '../changes/module';
import { votableServices } from '../changes/model';
import { dayMs } from '../time';
import { type Board, pendingApprovalsFor, sprintBoard } from '../changes/store';
import type { ChangeRow, IncidentRow } from '../db/schema';
import { openIncidentsFor } from '../incidents/store';
import type { Window } from '../metrics/model';
import { type DeliveryKpis, deliveryKpis, type MetricsDeps } from '../metrics/module';
import * as store from './store';

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
  /** The next 14 days of planned changes and freezes, of the viewer's services (or all). */
  calendar?: ChangeCalendar;
}

/** How many rows each part of the Home reads at most; the view summarises the rest. */
const homeLimits = { approvals: 8, boardPerColumn: 6, incidents: 10, kpiServices: 3 } as const;
export const kpiWindowDays = 30;
/** Who opened the Home within this many days has it refreshed when what it shows changes. */
const viewerRefreshDays = 30;

/** The days the Home's and `/tandem kpis`' figures cover, up to `now`. */
export const kpiWindow = (now: Date): Window => ({ from: new Date(now.getTime() - kpiWindowDays * dayMs), to: now });

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
  const window = kpiWindow(now);
  const kpis = await Promise.all(services.slice(0, homeLimits.kpiServices).map((service) => deliveryKpis(deps, window, service)));
  // Days are Tandem's time zone here (the Home is refreshed for many people at once); the times in it show in each reader's own.
  const calendar = await gatherCalendar(db, { catalog, timeZone: deps.timeZone }, { now, viewerTimeZone: deps.timeZone, service: services.length === 1 ? services[0] : undefined });
  return {
    calendar,
    viewer,
    services,
    pendingApprovals,
    sprints: [...new Set(currentSprints.values())].sort(),
    board,
    openIncidents,
    kpis,
  };
}

/** The services whose team the person is on (owner, on call, or approver). */
const servicesOf = (catalog: Catalog, user: string): string[] => serviceNames(catalog).filter((service) => isServiceTeam(catalog, service, user));

/** Remembers who opened the Home, so it can be refreshed for them later. */
export const rememberHomeViewer = (deps: MetricsDeps, user: string): Promise<void> => store.rememberHomeViewer(deps.db, user, deps.clock.now());

/** Of these people (or everyone), those who opened the Home lately. */
export const recentHomeViewers = (deps: MetricsDeps, among?: string[]): Promise<string[]> =>
  store.homeViewersSince(deps.db, new Date(deps.clock.now().getTime() - viewerRefreshDays * dayMs), among);
