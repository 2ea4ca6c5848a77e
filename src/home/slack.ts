import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { BackgroundWork } from '../background';
import { approversOf, findService, unknownService } from '../catalog';
import { helpText as changeHelp } from '../changes/blocks';
import type { DomainEvent, DomainEvents } from '../events';
import { helpText as incidentHelp } from '../incidents/blocks';
import { helpText as sprintHelp } from '../sprints/blocks';
import type { Logger } from '../log';
import { kpiMessage } from '../metrics/blocks';
import { deliveryKpis, type MetricsDeps } from '../metrics/module';
import type { CommandArgs } from '../slack/listener-args';
import { fromCommandText } from '../slack/text';
import { homeView } from './blocks';
import { gatherHome, kpiWindow, kpiWindowDays, recentHomeViewers, rememberHomeViewer } from './service';

export interface HomeDeps extends MetricsDeps {
  slack: WebClient;
  logger: Logger;
  background: BackgroundWork;
  events: DomainEvents;
}

const homeOpened = z.object({ user: z.string(), tab: z.string().optional() });

/** The App Home and `/tandem` (help and KPIs). */
export function register(app: App, deps: HomeDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    const opened = homeOpened.safeParse(event);
    if (!opened.success || (opened.data.tab && opened.data.tab !== 'home')) return;
    await rememberHomeViewer(deps, opened.data.user);
    await publishHome(deps, opened.data.user);
  });
  app.command('/tandem', (args) => onTandemCommand(deps, args));
  new HomeRefresher(deps).listen();
}

async function publishHome(deps: HomeDeps, user: string): Promise<void> {
  const view = homeView(await gatherHome(deps, user));
  await deps.slack.views.publish({ user_id: user, view });
}

async function onTandemCommand(deps: HomeDeps, { command, ack, respond }: CommandArgs) {
  const [word = 'help', service, ...rest] = fromCommandText(command.text).trim().split(/\s+/).filter(Boolean);
  if (word === 'help') return ack({ response_type: 'ephemeral', text: helpText });
  if (word !== 'kpis' || rest.length > 0) {
    return ack({ response_type: 'ephemeral', text: `I don't know \`/tandem ${command.text.trim()}\`.\n\n${helpText}` });
  }
  if (service && !findService(deps.catalog, service)) {
    return ack({ response_type: 'ephemeral', text: unknownService(deps.catalog, service).message });
  }
  await ack();
  const kpis = await deliveryKpis(deps, kpiWindow(deps.clock.now()), service);
  await respond({ response_type: 'ephemeral', ...kpiMessage(kpis, kpiWindowDays) });
}

/** `/tandem help`: every command, made once. */
const helpText = [
  incidentHelp,
  changeHelp,
  sprintHelp,
  '*Tandem*',
  '• `/tandem kpis [service]`: delivery KPIs for the last 30 days',
  '• `/tandem help`: this list',
  'Open Tandem’s *Home* tab for your approvals, the change board and open incidents.',
].join('\n\n');

/**
 * Re-publishes the Home of people who have opened it when something it shows
 * changes: a change, for its service's approvers and its requester; an incident,
 * for everyone (open incidents are on every Home). Bursts are coalesced.
 */
class HomeRefresher {
  private readonly due = new Set<string>();
  private everyone = false;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly deps: HomeDeps,
    private readonly delayMs = 100,
  ) {}

  listen(): void {
    this.deps.events.subscribe((event) => this.schedule(event));
  }

  private schedule(event: DomainEvent): void {
    if (event.kind === 'incident') {
      this.everyone = true;
    } else if (event.kind === 'change') {
      const service = findService(this.deps.catalog, event.change.service);
      for (const user of service ? [...approversOf(this.deps.catalog, service), ...service.owners] : []) this.due.add(user);
      this.due.add(event.change.requestedBy);
    } else {
      return;
    }
    this.pending ??= this.deps.background.track(
      new Promise((resolve) => setTimeout(resolve, this.delayMs)).then(() => {
        this.pending = undefined;
        return this.refresh();
      }),
    );
  }

  private async refresh(): Promise<void> {
    const among = this.everyone ? undefined : [...this.due];
    this.due.clear();
    this.everyone = false;
    for (const user of await recentHomeViewers(this.deps, among)) {
      await publishHome(this.deps, user).catch((error) => this.deps.logger.warn({ err: error, user }, 'could not refresh app home'));
    }
  }
}
