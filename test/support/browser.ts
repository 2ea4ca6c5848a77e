import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium package; playwright's own browser downloads are not used. */
export const chromiumPath = '/usr/bin/chromium';

/** Why the browser tests cannot run on this machine, or undefined when they can. */
export const browserMissing = existsSync(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath}; apt-get install chromium, which .ci/run does when it can`;

if (browserMissing) console.warn(`[tandem tests] the browser tests are skipped: ${browserMissing}`);

/** Headless Chromium with a fresh profile, nothing running in the background, and no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
