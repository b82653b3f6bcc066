import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, which scripts/setup installs; playwright-core drives it and downloads nothing. */
export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile that trusts the gateway's self-signed certificate. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's Chromium. Run scripts/setup (apt-get install -y chromium).`);
  }
  const profile = await mkdtemp(path.join(os.tmpdir(), 'podvoy-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreHTTPSErrors: true,
    viewport: { width: 1024, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What one page did in the browser: every problem a visitor could notice, or a console could. */
export interface PageVisit {
  /** The URL the browser ended at, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly consoleErrors: readonly string[];
  /** Sub-requests that failed or answered 4xx/5xx, as "URL reason". */
  readonly failedRequests: readonly string[];
  /** Same-origin links of the page, absolute, without fragments. */
  readonly links: readonly string[];
}

/** Chromium aborts what is in flight when the host's interfaces change, e.g. as podman starts any pod. */
const NETWORK_CHANGED = 'net::ERR_NETWORK_CHANGED';
const ATTEMPTS = 3;

/**
 * Opens `url` in a new page, waits until the network is idle, and reports what went wrong.
 * `inspect` runs on the loaded page before it is closed. A visit cut short because the host's
 * network changed (other pods starting on this machine) is made again, up to 3 times.
 */
export async function visit(context: BrowserContext, url: string, inspect: (page: Page) => Promise<void> = async () => {}): Promise<PageVisit> {
  for (let attempt = 1; ; attempt++) {
    try {
      const seen = await visitOnce(context, url, inspect);
      if (attempt < ATTEMPTS && seen.failedRequests.some((f) => f.endsWith(NETWORK_CHANGED))) continue;
      return seen;
    } catch (error) {
      if (attempt < ATTEMPTS && String(error).includes(NETWORK_CHANGED)) continue;
      throw error;
    }
  }
}

async function visitOnce(context: BrowserContext, url: string, inspect: (page: Page) => Promise<void>): Promise<PageVisit> {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('requestfailed', (request) => failedRequests.push(`${request.url()} ${request.failure()?.errorText ?? 'failed'}`));
  page.on('response', (response) => {
    const request = response.request();
    // The page itself is reported by its status; every other answer must be a success.
    if (response.status() >= 400 && !(request.isNavigationRequest() && request.frame() === page.mainFrame())) {
      failedRequests.push(`${response.url()} ${response.status()}`);
    }
  });
  try {
    const response = await page.goto(url, { waitUntil: 'networkidle' });
    const origin = new URL(page.url()).origin;
    const hrefs = await page.$$eval('a[href]', (anchors) => anchors.map((a) => (a as HTMLAnchorElement).href));
    const links = [...new Set(hrefs.map((h) => h.split('#')[0]!).filter((h) => new URL(h).origin === origin))];
    const seen = { url: page.url(), status: response?.status() ?? 0, consoleErrors, failedRequests, links };
    // A page that lost a sub-request to a network change is visited again, not inspected.
    if (failedRequests.some((f) => f.endsWith(NETWORK_CHANGED))) return seen;
    try {
      await inspect(page);
    } catch (error) {
      // What went wrong on the way explains most failed checks of the page (a missing stylesheet...).
      if (error instanceof Error) error.message += `\n(failed requests: ${JSON.stringify(failedRequests)}; console errors: ${JSON.stringify(consoleErrors)})`;
      throw error;
    }
    return seen;
  } finally {
    await page.close();
  }
}
