import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { play } from '../../src/index.js';
import { launchBrowser, visit, type Browser, type PageVisit } from '../support/browser.js';
import { freePort, uniqueName, workspace, type Workspace } from '../support/e2e.js';

/** Where the README's screenshots come from: this test writes them on every run. */
const SCREENSHOTS = path.join(PACKAGE_ROOT, 'docs/screenshots');

/** What examples/*\/css/style.css makes of a page: the paper background and the accent rule under the header. */
const STYLED = { background: 'rgb(250, 248, 245)', headerRule: 'rgb(11, 110, 79)', titleFont: 'system-ui' };

async function styleOf(page: Page): Promise<typeof STYLED> {
  return page.evaluate(() => {
    const header = document.querySelector('header.site .title');
    return {
      background: getComputedStyle(document.body).backgroundColor,
      headerRule: getComputedStyle(document.querySelector('header.site')!).borderBottomColor,
      titleFont: header ? getComputedStyle(header).fontFamily.split(',')[0]!.trim() : '',
    };
  });
}

/** Every image of the page was loaded and decoded. */
async function imagesOf(page: Page): Promise<number[]> {
  return page.$$eval('img', (images) => images.map((img) => (img as HTMLImageElement).naturalWidth));
}

/** The URL paths of a site's pages: each HTML file but the 404 page, a folder's index by the folder. */
async function pagesOf(dir: string, prefix = '/'): Promise<string[]> {
  const pages: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) pages.push(...(await pagesOf(path.join(dir, entry.name), `${prefix}${entry.name}/`)));
    else if (entry.name === 'index.html') pages.push(prefix);
    else if (entry.name.endsWith('.html') && !(prefix === '/' && entry.name === '404.html')) pages.push(`${prefix}${entry.name}`);
  }
  return pages.sort();
}

/** How a test reaches an example: its own shape, or (the blog) behind a gateway over HTTPS. */
const SHAPES = [
  { example: 'blog', via: 'its published sidecar', gateway: false },
  { example: 'blog', via: 'a gateway over HTTPS', gateway: true },
  { example: 'mesh', via: 'its gateway over HTTPS', gateway: true },
] as const;

/**
 * Each example as a visitor sees it, in Debian's Chromium: the blog through its published sidecar
 * and through a gateway over HTTPS, the mesh through its gateway over HTTPS (a self-signed
 * certificate, which the profile accepts).
 */
describe.each(SHAPES)('the $example example in a real browser, through $via', ({ example, gateway }) => {
  let ws: Workspace;
  let browser: Browser | undefined;
  let base: string;
  const siteDir = () => path.join(ws.dir, example === 'blog' ? 'site' : 'blog');
  /** The example's own shape is the one its README screenshot shows. */
  const screenshot = example === 'mesh' || !gateway;

  beforeAll(async () => {
    ws = await workspace(example);
    let text = (await readFile(path.join(ws.dir, 'podvoy.yaml'), 'utf8')).replace(/^name: .*$/m, `name: ${uniqueName(`br${example}`)}`);
    if (!gateway) {
      const port = await freePort();
      text = text.replace('publish: 8080', `publish: ${port}`);
      base = `http://127.0.0.1:${port}/`;
    } else {
      const https = await freePort();
      if (example === 'blog') {
        text = text
          .replace(/\n {4}sidecar:\n(?: {6}.*\n)*/, '\n')
          .replace('services:\n', `gateway: {http: ${await freePort()}, https: ${https}, routes: [{service: web}]}\nservices:\n`);
      } else {
        text = text.replace('http: 8081', `http: ${await freePort()}`).replace('https: 8443', `https: ${https}`);
      }
      base = `https://127.0.0.1:${https}/`;
    }
    await play(await ws.writeSpec(text), { roots: ws.roots });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await ws?.cleanup();
  });

  it('reaches every page by following links: styled, whole, without an error', async () => {
    const visits = new Map<string, PageVisit>();
    const feeds = new Set<string>();
    const queue = [base];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (visits.has(url) || feeds.has(url)) continue;
      if (url.endsWith('.xml')) {
        feeds.add(url);
        continue;
      }
      const seen = await visit(browser!.context, url, async (page) => {
        expect(await styleOf(page), url).toEqual(STYLED);
        for (const width of await imagesOf(page)) expect(width, url).toBeGreaterThan(0);
      });
      visits.set(url, seen);
      expect({ url, status: seen.status, consoleErrors: seen.consoleErrors, failedRequests: seen.failedRequests }).toEqual({
        url,
        status: 200,
        consoleErrors: [],
        failedRequests: [],
      });
      // A redirect (the "All posts" link to /posts) keeps the visitor on the same scheme, host and port.
      expect(new URL(seen.url).origin).toBe(new URL(base).origin);
      queue.push(...seen.links);
    }
    const reached = new Set([...visits.values()].map((v) => new URL(v.url).pathname));
    expect([...reached].sort()).toEqual(await pagesOf(siteDir()));

    expect([...feeds].map((f) => new URL(f).pathname)).toEqual(['/feed.xml']);
    const feed = await browser!.context.request.get(new URL('/feed.xml', base).toString());
    expect(feed.status()).toBe(200);
    const atom = await feed.text();
    expect(atom).toContain('<feed xmlns="http://www.w3.org/2005/Atom"');
    const posts = (await pagesOf(siteDir())).filter((p) => /^\/posts\/[^/]+\.html$/.test(p));
    expect(atom.match(/<entry>/g)).toHaveLength(posts.length);
  });

  it(screenshot ? 'shows the home page as the screenshot in the README' : 'shows the home page', async () => {
    const expectedPosts =
      example === 'mesh' ? (JSON.parse(await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8')) as { posts: { title: string }[] }).posts : [];
    await mkdir(SCREENSHOTS, { recursive: true });
    const home = await visit(browser!.context, base, async (page) => {
      if (example === 'mesh') {
        // The list is the API service's answer, fetched by the page's script through the gateway.
        await page.waitForSelector('#posts li');
        expect(await page.$$eval('#posts li a', (links) => links.map((a) => a.textContent))).toEqual(expectedPosts.map((p) => p.title));
        expect(await page.textContent('#posts-status')).toBe(`${expectedPosts.length} posts from the API service.`);
      }
      if (screenshot) await page.screenshot({ path: path.join(SCREENSHOTS, `${example}.png`), fullPage: true });
    });
    expect(home.failedRequests).toEqual([]);
    expect(home.consoleErrors).toEqual([]);
  });

  it('shows the site’s own 404 page, styled, for a missing page', async () => {
    const missing = new URL('/no/such/page', base).toString();
    const seen = await visit(browser!.context, missing, async (page) => {
      expect(await page.title()).toMatch(/^Not found/);
      expect(await styleOf(page)).toEqual(STYLED);
    });
    expect(seen.status).toBe(404);
    expect(seen.failedRequests).toEqual([]);
    // Chromium reports the page's own 404 in the console; nothing else may appear there.
    expect(seen.consoleErrors).toHaveLength(1);
    expect(seen.consoleErrors[0]).toMatch(/^Failed to load resource: the server responded with a status of 404 \((Not Found)?\) /);
    expect(seen.consoleErrors[0]!.endsWith(`(${missing})`)).toBe(true);
  });
});
