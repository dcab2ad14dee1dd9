// The run: one stack and one browser for the whole suite (set up in a root
// before hook), a fresh browser context per test, screenshots, timings, and
// a summary at the end.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Screenshots, launchBrowser, loginCpaMode, loginViaApi, newContext } from './browser.mjs';
import { CPA_PANEL_URL, PANEL_URL, installExitHandlers, startStack } from './stack.mjs';
import { parseCount, formatCount, sleep } from './util.mjs';

/**
 * @typedef {object} Env
 * @property {import('./stack.mjs').Stack} stack
 * @property {import('./api.mjs').Api} api
 * @property {import('playwright-core').Browser} browser
 * @property {Screenshots} shots
 * @property {string} timeZone the browser's (and the API calls') time zone
 * @property {Record<string, number>} timings ms
 * @property {boolean} failed
 */

/** Filled by setup(); tests read it when they run. */
export const env = /** @type {Env} */ ({ timings: {}, failed: false });

export async function setup() {
  env.timeZone = process.env.CPAM_E2E_TZ || 'Asia/Shanghai';
  const t0 = Date.now();
  installExitHandlers();
  // The browser first: a missing Chromium fails before any process starts.
  env.browser = await launchBrowser();
  const dir = process.env.CPAM_SCREENSHOTS || mkdtempSync(path.join(os.tmpdir(), 'cpam-e2e-screenshots-'));
  mkdirSync(dir, { recursive: true });
  env.shots = new Screenshots(dir);
  try {
    env.stack = await startStack();
  } catch (e) {
    env.failed = true;
    await env.browser.close();
    throw e;
  }
  env.api = env.stack.api;
  console.log(`stack up in ${Date.now() - t0} ms (${env.stack.dir}); browser time zone ${env.timeZone}`);
}

export async function teardown() {
  await env.browser?.close().catch(() => {});
  await env.stack?.stop({ failed: env.failed });
  if (Object.keys(env.timings).length > 0) {
    console.log('panel load times (ms):');
    for (const [k, v] of Object.entries(env.timings)) console.log(`  ${k.padEnd(48)} ${Math.round(v)}`);
  }
  if (env.shots) {
    writeFileSync(path.join(env.shots.dir, 'timings.json'), JSON.stringify(env.timings, null, 2) + '\n');
    console.log(`screenshots (${env.shots.files.length}) in ${env.shots.dir}:`);
    for (const f of env.shots.files) console.log(`  ${path.basename(f)}`);
  }
  if (env.stack && (env.failed || process.env.CPAM_E2E_KEEP === '1')) {
    console.log(`stack logs kept in ${env.stack.dir} (caddy.log, cpa-sim.log, Caddyfile, cpam.db)`);
  }
}

/**
 * @typedef {object} Ctx
 * @property {import('playwright-core').Page} page
 * @property {import('playwright-core').BrowserContext} context
 * @property {(step: string) => Promise<string>} shot
 * @property {import('./api.mjs').Api} api
 * @property {import('./stack.mjs').Stack} stack
 * @property {'hosted' | 'cpa'} mode how the panel is served (see browserTest)
 * @property {string} panelUrl the panel's URL in that mode; append "#/page"
 */

/**
 * A test with its own browser context (signed in through the API unless
 * login is false) and page; a screenshot at the end, or "FAILED" with the
 * page's errors on failure. The test gets its own timeout, shorter than the
 * runner's, so the context is always closed and the failure explained.
 * @param {string} name
 * @param {(ctx: Ctx) => Promise<void>} fn
 * In mode 'cpa' the page is the one the simulator serves at /management.html
 * (CPA panel mode): signed in as the login form leaves it (the CPA key in
 * sessionStorage, the usage-service URL in localStorage), management calls go
 * to the simulator and usage calls to caddy-cpam across origins.
 * @param {{ timeout?: number, login?: boolean, mode?: 'hosted' | 'cpa' }} [options]
 */
export function browserTest(name, fn, { timeout = 40_000, login = true, mode = 'hosted' } = {}) {
  test(name, { timeout: timeout + 20_000 }, async () => {
    if (!env.stack || !env.browser) throw new Error('the stack or the browser did not start (see the before hook)');
    const context = await newContext(env.browser, { timeZone: env.timeZone });
    const page = await context.newPage();
    /** @type {string[]} */
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) pageErrors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
    /** @param {string} step */
    const shot = (step) => env.shots.take(page, name, step);
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    try {
      if (login && mode === 'hosted') await loginViaApi(context, env.stack.adminKey);
      if (login && mode === 'cpa') await loginCpaMode(context, env.stack.managementKey);
      const panelUrl = mode === 'cpa' ? CPA_PANEL_URL : PANEL_URL;
      const run = fn({ page, context, shot, api: env.api, stack: env.stack, mode, panelUrl });
      run.catch(() => {}); // still settles after a timeout; the race below reports
      await Promise.race([
        run,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`test timed out after ${timeout} ms`)), timeout);
        }),
      ]);
      await shot('end');
    } catch (e) {
      env.failed = true;
      const file = await shot('FAILED');
      if (e instanceof Error) {
        e.message += `\n  screenshot: ${file}`;
        if (pageErrors.length > 0) e.message += `\n  ${pageErrors.slice(0, 10).join('\n  ')}`;
      }
      throw e;
    } finally {
      clearTimeout(timer);
      await context.close().catch(() => {});
    }
  });
}

/**
 * The same flow in both modes: hosted by caddy-cpam, and CPA panel mode
 * (name suffixed " [CPA panel mode]").
 * @param {string} name
 * @param {(ctx: Ctx) => Promise<void>} fn
 * @param {{ timeout?: number }} [options]
 */
export function browserTestBothModes(name, fn, options = {}) {
  browserTest(name, fn, { ...options, mode: 'hosted' });
  browserTest(`${name} [CPA panel mode]`, fn, { ...options, mode: 'cpa' });
}

/**
 * Checks that a count the panel shows is the API's count for the same
 * question, allowing only for events stored meanwhile. Each round reads the
 * API (`before`), makes the panel fetch (trigger: a navigation, a reload, a
 * filter), then reads the panel and the API again (`after`) until the shown
 * number lies between the two, i.e. is a value the API itself gave during
 * that short window. The window is bounded, so a number that is merely close
 * (the successes instead of the attempts, an unfiltered count) does not pass
 * by waiting for the traffic to catch up. Then checks the formatting.
 * @param {import('playwright-core').Locator} locator
 * @param {() => Promise<number>} readApi
 * @param {{ label: string, trigger: (round: number) => Promise<unknown>, rounds?: number, window?: number, locale?: string }} o
 */
export async function expectCount(locator, readApi, { label, trigger, rounds = 3, window = 5000, locale = 'en' }) {
  /** @type {{ text: string, shown: number, before: number, after: number, round: number } | undefined} */
  let last;
  for (let round = 0; round < rounds; round++) {
    const before = await readApi();
    const started = Date.now();
    await trigger(round);
    while (Date.now() - started < window) {
      /** @type {string} */
      let text;
      try {
        text = ((await locator.textContent({ timeout: 1000 })) ?? '').trim();
      } catch {
        continue; // not rendered yet (a skeleton while loading)
      }
      const shown = parseCount(text);
      const after = await readApi();
      last = { text, shown, before, after, round };
      if (Number.isFinite(shown) && before <= shown && shown <= after) {
        assert.equal(
          text,
          formatCount(shown, locale),
          `${label}: shown as "${text}", the panel's format gives "${formatCount(shown, locale)}"`,
        );
        if (process.env.CPAM_E2E_DEBUG) console.log(`${label}: ${JSON.stringify(last)}`);
        return last;
      }
      await sleep(150);
    }
  }
  throw new Error(
    last
      ? `${label}: the panel shows "${last.text}" (${last.shown}); the API answered ${last.before} before the panel fetched and ${last.after} after (${rounds} tries of ${window} ms)`
      : `${label}: element not found: ${locator} never rendered within ${window} ms (${rounds} tries)`,
  );
}
