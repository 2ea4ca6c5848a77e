import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium package; playwright's own browser downloads are not used. */
export const chromiumPath = '/usr/bin/chromium';

/** Why the browser tests cannot run on this machine, or undefined when they can. */
export const browserMissing = existsSync(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath}, so the browser tests are skipped (apt-get install chromium; .ci/run installs it when it can)`;

if (browserMissing) console.warn(`[tandem tests] ${browserMissing}`);

/** Headless Chromium with a fresh profile, nothing running in the background, and no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
