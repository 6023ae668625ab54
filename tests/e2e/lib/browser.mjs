// Headless Chromium for the web pages (Debian's chromium, driven by playwright-core), with
// the flags this sandbox needs, and screenshots kept for a person to look at:
//   build/screenshots/<suite>/<nn>-<name>.png   (PDS_E2E_SCREENSHOTS overrides the folder)
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from './util.mjs';

export const CHROMIUM = process.env.PDS_CHROMIUM || '/usr/bin/chromium';
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1280, height: 900 } };

/**
 * Starts a browser. Returns { browser, newPage(opts), shot(page, name), close() }; pages
 * get a fresh context each (no shared cookies) unless opts.context is given. Every console
 * error and failed request of a page is collected in page.problems so tests can assert
 * that a page loaded cleanly (a CSP violation shows up there).
 */
export async function startBrowser(suite) {
  // playwright refuses --user-data-dir in launch(); it gives each launch a fresh profile
  // directory of its own, which is what the flag was for
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const dir = path.resolve(process.env.PDS_E2E_SCREENSHOTS || path.join(repoRoot, 'build/screenshots'), suite);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    browser,
    screenshotDir: dir,
    async newPage({ context, ...opts } = {}) {
      const ctx = context ?? (await browser.newContext({ ...DESKTOP, ...opts }));
      const page = await ctx.newPage();
      page.problems = [];
      page.on('console', (m) => m.type() === 'error' && page.problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      return page;
    },
    async shot(page, name) {
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await browser.close();
    },
  };
}
