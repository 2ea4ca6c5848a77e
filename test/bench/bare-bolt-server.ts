import { App, LogLevel } from '@slack/bolt';

/**
 * The baseline of message-ingestion.bench.ts: a bare Bolt app on its own HTTP
 * receiver, verifying the same signed events and acknowledging them, storing nothing.
 */
const port = Number(process.env.PORT);
const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? 'bench',
  token: 'xoxb-bench',
  tokenVerificationEnabled: false,
  botId: 'B0BENCH',
  botUserId: 'U0BENCHBOT',
  logLevel: LogLevel.ERROR,
  customRoutes: [{ path: '/ready', method: ['GET'], handler: (_req, res) => void res.writeHead(200).end('ok') }],
});
for (const type of ['message', 'reaction_added'] as const) app.event(type, async () => {});
await app.start(port);
