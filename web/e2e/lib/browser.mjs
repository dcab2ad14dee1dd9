// The browser side: one system Chromium per run, a fresh context per test,
// sign-in through the API, data-testid lookups with short timeouts and
// clear "element not found" errors, screenshots, and render timings.
import { constants as fsc, mkdtempSync, rmSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ORIGIN, SIM_ORIGIN, USAGE_URL } from './stack.mjs';
import { slug } from './util.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** How long a test waits for an element before it reports it missing. */
export const ELEMENT_TIMEOUT = 5000;

export async function launchBrowser() {
  try {
    await access(CHROMIUM_PATH, fsc.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it with apt-get install -y chromium (or point CHROMIUM_PATH at a Chromium binary)`,
    );
  }
  // Playwright keeps the browser's profile under os.tmpdir(): a dir of our
  // own, removed at exit, is cleaned up even when the run is killed before
  // the browser could close (exit listeners run in order: Playwright's, which
  // kills the browser, was added during launch, before this one).
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cpam-e2e-browser-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], headless: true });
    process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
    return browser;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/**
 * Runs in every page before the panel's scripts: records when each
 * data-testid first appears in the DOM (performance.now(), i.e. ms since the
 * navigation started) and when each data-testid element was last clicked, so
 * load times and brief states (an upload's progress bar) can be read later.
 */
function markerScript() {
  /** @type {Record<string, number>} */
  const seen = Object.create(null);
  /** @type {Record<string, number>} */
  const clicks = Object.create(null);
  Object.assign(window, { __cpamSeen: seen, __cpamClicks: clicks });
  /** @param {Element} el */
  const mark = (el) => {
    const id = el.getAttribute('data-testid');
    if (id && !(id in seen)) seen[id] = performance.now();
  };
  /** @param {Node} node */
  const scan = (node) => {
    if (!(node instanceof Element)) return;
    mark(node);
    node.querySelectorAll('[data-testid]').forEach(mark);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') scan(r.target);
      else r.addedNodes.forEach(scan);
    }
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-testid'] });
  document.addEventListener(
    'click',
    (e) => {
      const el = e.target instanceof Element ? e.target.closest('[data-testid]') : null;
      const id = el?.getAttribute('data-testid');
      if (id) clicks[id] = performance.now();
    },
    true,
  );
}

/**
 * A fresh context: English UI, a light OS theme, the suite's time zone, and
 * Caddy's internal CA accepted.
 * @param {import('playwright-core').Browser} browser
 * @param {{ timeZone: string }} o
 */
export async function newContext(browser, { timeZone }) {
  const context = await browser.newContext({
    baseURL: ORIGIN,
    ignoreHTTPSErrors: true,
    locale: 'en-US',
    timezoneId: timeZone,
    colorScheme: 'light',
    viewport: { width: 1366, height: 900 },
  });
  context.setDefaultTimeout(ELEMENT_TIMEOUT);
  context.setDefaultNavigationTimeout(15_000);
  await context.addInitScript(markerScript);
  return context;
}

/**
 * Signs the context in the way the login form does (POST /cpam/auth/login),
 * so the session cookie lands in the context's cookie jar.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} adminKey
 */
export async function loginViaApi(context, adminKey) {
  const res = await context.request.post('/cpam/auth/login', { data: { key: adminKey }, headers: { 'X-CPAM-Request': '1' } });
  if (!res.ok()) throw new Error(`POST /cpam/auth/login: HTTP ${res.status()}: ${await res.text()}`);
  const cookies = await context.cookies(ORIGIN);
  if (!cookies.some((c) => c.name === 'cpam_session')) throw new Error('POST /cpam/auth/login set no cpam_session cookie');
}

/**
 * Signs a context in as CPA panel mode's login form leaves it: the CPA
 * management key in the simulator origin's sessionStorage, the usage-service
 * URL in its localStorage (set before the first page script of each tab
 * runs, once, so a logout in the test sticks).
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} managementKey
 */
export async function loginCpaMode(context, managementKey) {
  await context.addInitScript(
    ({ origin, usageUrl, key }) => {
      if (window.location.origin !== origin || window.sessionStorage.getItem('cpam.e2e.seeded') === '1') return;
      window.sessionStorage.setItem('cpam.e2e.seeded', '1');
      window.sessionStorage.setItem('cpam.managementKey', key);
      window.localStorage.setItem('cpam.usageUrl', usageUrl);
    },
    { origin: SIM_ORIGIN, usageUrl: USAGE_URL, key: managementKey },
  );
}

/**
 * @param {import('playwright-core').Page | import('playwright-core').Locator} scope
 * @param {string} id
 */
export function tid(scope, id) {
  return scope.locator(`[data-testid="${id}"]`);
}

/**
 * Waits (briefly) for the first [data-testid=id] in scope to be visible, or
 * attached with state 'attached'; throws "element not found" naming it.
 * @param {import('playwright-core').Page | import('playwright-core').Locator} scope
 * @param {string} id
 * @param {{ timeout?: number, state?: 'visible' | 'attached', hint?: string }} [o]
 */
export async function find(scope, id, { timeout = ELEMENT_TIMEOUT, state = 'visible', hint } = {}) {
  const loc = tid(scope, id).first();
  try {
    await loc.waitFor({ state, timeout });
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new Error(`element not found: [data-testid="${id}"] not ${state} within ${timeout} ms${hint ? ` (${hint})` : ''} [${why}]`, {
      cause: e,
    });
  }
  return loc;
}

/**
 * The render marks of the page (see markerScript).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{ seen: Record<string, number>, clicks: Record<string, number> }>}
 */
export function marks(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window);
    return { seen: { ...w.__cpamSeen }, clicks: { ...w.__cpamClicks } };
  });
}

/** Full-page screenshots, numbered in the order they are taken. */
export class Screenshots {
  /** @param {string} dir */
  constructor(dir) {
    this.dir = dir;
    this.count = 0;
    /** @type {string[]} */
    this.files = [];
  }

  /**
   * @param {import('playwright-core').Page} page
   * @param {string} test
   * @param {string} step
   */
  async take(page, test, step) {
    const file = path.join(this.dir, `${String(++this.count).padStart(2, '0')}-${slug(test)}--${slug(step)}.png`);
    try {
      await mkdir(this.dir, { recursive: true });
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
      this.files.push(file);
    } catch {
      // A closed page or a crashed renderer: the test's own error says more.
    }
    return file;
  }
}
