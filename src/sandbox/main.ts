import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadSandboxConfig } from '../config';
import { startSandbox } from './sandbox';

/**
 * `npm run sandbox`: Tandem on a fresh embedded database, with a stand-in Slack and
 * a page to use it from a browser. Each run starts from the demo data and leaves
 * nothing behind: the stand-in keeps its workspace in memory, so a database that
 * outlived it would name channels that no longer exist.
 */
async function main(): Promise<void> {
  const settings = loadSandboxConfig(process.env);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-sandbox-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write('Starting Tandem with a stand-in Slack and demo data…\n');
  const sandbox = await startSandbox({ port: settings.port, dataDir, logLevel: settings.logLevel }).catch((error: unknown) => {
    removeData();
    throw error;
  });
  process.stdout.write(
    [
      '',
      `  Tandem sandbox: open ${sandbox.url}`,
      '',
      '  Pick who you are on the left, type /incident or /change, click the buttons.',
      `  Tandem itself answers at ${sandbox.tandemUrl} (/healthz, /readyz).`,
      `  Ctrl+C stops it and deletes its data in ${dataDir}.`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sandbox
      .stop()
      .catch((error: unknown) => process.stderr.write(`sandbox: could not stop cleanly: ${String(error)}\n`))
      .finally(() => {
        removeData();
        process.exit(0);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`sandbox: could not start: ${message}\n`);
  process.exit(1);
});
