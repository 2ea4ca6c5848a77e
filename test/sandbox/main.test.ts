import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTandem, waitForOutput } from '../support/process';

describe('npm run sandbox', { timeout: 90_000 }, () => {
  it('prints the page’s URL, serves it, and on SIGTERM stops and deletes its demo data', async () => {
    const sandbox = runTandem('src/sandbox/main.ts', [], { SANDBOX_PORT: '0' });
    const [, url] = await waitForOutput(sandbox, /Tandem sandbox: open (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000);
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Tandem sandbox</title>');
    const [, tandemUrl] = await waitForOutput(sandbox, /Tandem itself answers at (http:\/\/127\.0\.0\.1:\d+)/);
    expect((await fetch(`${tandemUrl}/readyz`)).status).toBe(200);
    const [, dataDir] = await waitForOutput(sandbox, /deletes its data in (\S+)\.$/m);
    expect(existsSync(dataDir!)).toBe(true);

    sandbox.child.kill('SIGTERM');
    const finished = await sandbox.finished;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toBe('');
    expect(existsSync(dataDir!)).toBe(false);
  });

  it('stops at start-up with one line when SANDBOX_PORT is not a port', async () => {
    const finished = await runTandem('src/sandbox/main.ts', [], { SANDBOX_PORT: 'abc' }).finished;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toBe('sandbox: could not start: SANDBOX_PORT must be a port number from 0 to 65535 (got "abc")\n');
  });
});
