// The benchmarks' Slack anchor: the least a Bolt app costs, in plain JavaScript. It
// verifies signatures with Bolt's own HTTP receiver and acknowledges `/tandem` and
// `/change` at once, with no database. GET /ready answers 200 once it listens.
import bolt from '@slack/bolt';

const app = new bolt.App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: process.env.SLACK_BOT_TOKEN,
  tokenVerificationEnabled: false,
  // Known up front, so Bolt never calls auth.test (there is no Slack here).
  botId: 'B0BENCH',
  botUserId: 'U0BENCHBOT',
  logLevel: bolt.LogLevel.ERROR,
  customRoutes: [{ path: '/ready', method: ['GET'], handler: (_req, res) => res.end('ok') }],
});
app.command('/tandem', ({ ack }) => ack({ response_type: 'ephemeral', text: 'help' }));
app.command('/change', ({ ack }) => ack());
await app.start(Number(process.env.PORT));
