import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import path from 'node:path';
import { sendJson } from '../api/router';
import { loadCatalog } from '../catalog';
import { type LogLevel, loadConfig } from '../config';
import { createLogger } from '../log';
import { startTandem, type Tandem } from '../tandem';
import { WorkspaceActions } from './actions';
import { createBrowserApi } from './browser-api';
import { demoActivity, demoCatalog, seedDemoWorkspace } from './demo';
import { LiveWorkspace } from './live-workspace';
import { declaresCommand, readManifest } from './manifest';
import { SlackSimulator, startSandboxSlack } from '../fake-slack';

export interface SandboxOptions {
  /** Where the page and the stand-in Slack listen; 0 picks a free port. */
  port: number;
  /** Holds the demo catalog and Tandem's embedded database. */
  dataDir: string;
  logLevel: LogLevel;
}

export interface Sandbox {
  /** The page to open in a browser. */
  url: string;
  /** Tandem itself: its REST API and health checks. */
  tandemUrl: string;
  slack: LiveWorkspace;
  stop(): Promise<void>;
}

/**
 * Tandem as it runs in production, with the stand-in Slack in place of slack.com:
 * the configuration is parsed from environment variables like `npm start`'s, the
 * catalog is read from a file, and every Web API call goes to SLACK_API_URL. Only
 * the stand-in knows this is a sandbox.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const manifest = readManifest();
  const catalogFile = path.join(options.dataDir, 'tandem.yaml');
  writeFileSync(catalogFile, demoCatalog);
  // Made up per run and never sent to the page: only the stand-in signs requests to Tandem.
  const signingSecret = randomBytes(32).toString('hex');
  const botToken = `xoxb-sandbox-${randomBytes(16).toString('hex')}`;

  let pageRoutes: RequestListener = (_req, res) =>
    sendJson(res, 503, { error: { code: 'starting', message: 'The sandbox is still starting; try again in a moment.' } });
  const standIn = await startSandboxSlack({
    port: options.port,
    workspace: (origin) => new LiveWorkspace({ origin, botToken, scopes: manifest.botScopes }),
    otherRoutes: (req, res) => pageRoutes(req, res),
  });
  const slack = standIn.slack;
  seedDemoWorkspace(slack);

  let tandem: Tandem | undefined;
  try {
    const config = loadConfig({
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      TANDEM_DATA_DIR: path.join(options.dataDir, 'database'),
      TANDEM_CATALOG: catalogFile,
      PORT: '0',
      LOG_LEVEL: options.logLevel,
    });
    const logger = createLogger(config.logLevel);
    const catalog = loadCatalog(config.catalogPath);
    tandem = await startTandem({ config, catalog, logger });
    const tandemUrl = `http://127.0.0.1:${tandem.port}`;
    const simulator = new SlackSimulator(slack, { requestUrl: `${tandemUrl}/slack/events`, signingSecret });
    const actions = new WorkspaceActions(slack, simulator, manifest);
    // The demo follows the manifest: a step for a command the app does not declare is left out.
    for (const step of demoActivity(new Date()).filter((candidate) => declaresCommand(manifest, candidate.text))) {
      const outcome = await actions.send(step.person, step.channel, step.text);
      if (outcome.problem) throw new Error(`the demo data could not be created: ${outcome.problem}`);
      // Tandem finishes a command after acknowledging it; the next step may build on it (a sprint on its subscription).
      await tandem.idle();
    }
    pageRoutes = createBrowserApi({ slack, actions, manifest, catalog, logger });
    const running = tandem;
    return {
      url: `${standIn.origin}/`,
      tandemUrl,
      slack,
      async stop() {
        // Tandem first: it finishes its in-flight Slack calls against the stand-in.
        await running.stop();
        await standIn.close();
      },
    };
  } catch (error) {
    await tandem?.stop();
    await standIn.close();
    throw error;
  }
}
