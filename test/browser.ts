import { existsSync } from 'node:fs';

/**
 * A real headless Chromium for what a person looks at: Debian's `chromium` package, driven by playwright-core
 * (which never downloads a browser). Flags as this machine's notes require: no sandbox as root, no background
 * networking (a closed network refuses those connections), a fresh profile.
 */
export const CHROMIUM = process.env.ROOSYNC_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can (a visible skip, never a silent pass). */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set ROOSYNC_TEST_CHROMIUM`;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens a local file in a fresh offline context: every request that is not the file itself is recorded in
 * `outside` and aborted (a self-contained page makes none).
 */
export async function openOffline(browser: Awaited<ReturnType<typeof launchChromium>>, file: string, width = 1000) {
  const context = await browser.newContext({ offline: true, viewport: { width, height: 900 } });
  const tab = await context.newPage();
  const outside: string[] = [];
  await tab.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await tab.goto(`file://${file}`);
  return { tab, outside };
}
