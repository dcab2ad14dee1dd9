// The Monitoring page: range preset, KPIs against the API, the model filter,
// and the live table fed by the simulator's traffic.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTest, env, expectCount } from '../lib/harness.mjs';
import { PANEL_URL } from '../lib/stack.mjs';
import { sleep, until } from '../lib/util.mjs';

const HINT = 'is the Monitoring page built yet?';
const MODEL = 'mock-gpt';

/**
 * The API's attempts of the last 24 hours, with optional dimension filters.
 * @param {Record<string, string>} [filters]
 */
const attempts24h =
  (filters = {}) =>
  async () =>
    (await env.api.summary({ from: new Date(Date.now() - 24 * 3_600_000).toISOString(), tz: env.timeZone, ...filters })).attempts;

/**
 * Picks a value in the model filter, whether it is a <select>, a text box
 * with suggestions, or a button that opens a list of options.
 * @param {import('playwright-core').Page} page
 * @param {string} value
 */
async function chooseModel(page, value) {
  const control = await find(page, 'monitoring-filter-model', { hint: HINT });
  const tag = await control.evaluate((el) => el.tagName);
  const inner = control.locator('select');
  if (tag === 'SELECT' || (await inner.count()) > 0) {
    const select = tag === 'SELECT' ? control : inner.first();
    /** @returns {Promise<string[]>} */
    const options = () => select.evaluate((el) => [.../** @type {HTMLSelectElement} */ (el).options].map((o) => `${o.value}|${o.label}`));
    await until(async () => ((await options()).some((o) => o.split('|').includes(value)) ? true : undefined), {
      what: `option "${value}" in [data-testid="monitoring-filter-model"]`,
    }).catch(async (e) => {
      throw new Error(`${e.message}; options: ${JSON.stringify(await options())}`);
    });
    await select.selectOption(value);
  } else {
    if (tag === 'INPUT') await control.fill(value);
    else await control.click();
    const option = page
      .getByRole('option', { name: value, exact: true })
      .or(page.getByRole('menuitem', { name: value, exact: true }))
      .first();
    try {
      await option.click({ timeout: 3000 });
    } catch {
      if (tag !== 'INPUT') throw new Error(`no option "${value}" appeared after clicking [data-testid="monitoring-filter-model"]`);
      await control.press('Enter');
    }
  }
}

/** @param {import('playwright-core').Locator} status @param {string} state @param {number} timeout */
function waitState(status, state, timeout) {
  return until(async () => ((await status.getAttribute('data-state')) === state ? true : undefined), {
    timeout,
    what: `live-status data-state="${state}"`,
  }).catch(async (e) => {
    throw new Error(`${e instanceof Error ? e.message : e}; it is "${await status.getAttribute('data-state')}"`);
  });
}

export default function monitoring() {
  describe('monitoring', () => {
    browserTest('5a monitoring: 24 h requests and the model filter match the API', async ({ page, shot }) => {
      const kpi = tid(page, 'mon-kpi-requests');
      // Every try makes the page fetch after the first API read: the first
      // loads it, later ones reload it.
      const all = await expectCount(kpi, attempts24h(), {
        label: 'mon-kpi-requests (24 h)',
        trigger: async (round) => {
          if (round === 0) await page.goto(`${PANEL_URL}#/monitoring`);
          else await page.reload();
          await find(page, 'monitoring-page', { timeout: 8000, hint: HINT });
          await (await find(page, 'monitoring-preset-24h', { hint: HINT })).click();
        },
      });
      await shot('24h');

      const filtered = await expectCount(kpi, attempts24h({ model: MODEL }), {
        label: `mon-kpi-requests (model ${MODEL})`,
        trigger: async (round) => {
          if (round === 0) await chooseModel(page, MODEL);
          else await page.reload(); // a filter is URL state in this panel: it survives a reload
          const chip = await find(page, 'monitoring-chip-model', { timeout: round === 0 ? 5000 : 8000, hint: HINT });
          assert.match(await chip.innerText(), new RegExp(MODEL), 'the model chip does not name the model');
        },
      });
      assert.ok(filtered.shown > 0, `no ${MODEL} attempts: the simulator's traffic should have some`);
      assert.ok(filtered.shown < all.shown, `the model filter did not narrow the count (${all.shown} → ${filtered.shown})`);
      await shot('model filter');
    });

    browserTest('5b monitoring: the live table gets new rows and pauses', async ({ page, shot }) => {
      await page.goto(`${PANEL_URL}#/monitoring`);
      await find(page, 'monitoring-page', { timeout: 8000, hint: HINT });
      await find(page, 'live-table', { timeout: 8000, hint: HINT });
      const status = await find(page, 'live-status', { state: 'attached', hint: HINT });
      await waitState(status, 'live', 10_000);

      // Rows present now are marked; a row element without the mark is new.
      const markRows = () =>
        page.evaluate(() => {
          const rows = document.querySelectorAll('[data-testid="live-row"]');
          rows.forEach((r) => Object.assign(r, { __cpamOld: true }));
          return rows.length;
        });
      const newRows = () =>
        page.evaluate(() => [...document.querySelectorAll('[data-testid="live-row"]')].filter((r) => !('__cpamOld' in r)).length);
      await markRows();
      const started = Date.now();
      await until(async () => ((await newRows()) > 0 ? true : undefined), { timeout: 10_000, what: 'a new live-row from the traffic' });
      env.timings['live table: wait for a new row'] = Date.now() - started;
      await shot('live');

      await tid(page, 'live-pause').click({ timeout: 5000 });
      await waitState(status, 'paused', 3000);
      await markRows();
      await sleep(3000); // the simulator sends about 3 requests a second
      assert.equal(await newRows(), 0, 'rows kept arriving while the live table was paused');
      assert.equal(await status.getAttribute('data-state'), 'paused');
      await shot('paused');
    });

    browserTest("5c monitoring: a failed request's details download CPA's log for it", async ({ page, shot }) => {
      await page.goto(`${PANEL_URL}#/monitoring`);
      await find(page, 'monitoring-page', { timeout: 8000, hint: HINT });
      const row = await find(page, 'failure-row', { timeout: 10_000, hint: HINT });
      const requestId = await row.getAttribute('data-request-id');
      assert.ok(requestId, 'the failure row carries no request id');
      await row.click();
      await find(page, 'event-details', { hint: HINT });
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 10_000 }),
        tid(page, 'event-details-log-link').click(),
      ]);
      assert.equal(download.suggestedFilename(), `request-${requestId}.log`);
      const path = await download.path();
      const text = readFileSync(path, 'utf8');
      assert.match(text, new RegExp(requestId), "CPA's log does not mention the request id");
      await shot('request log');

      // The same log in the Logs page.
      await tid(page, 'event-details-logs-page').click();
      const shown = await find(page, 'logs-request-text', { timeout: 10_000, hint: 'is the Logs page built yet?' });
      await until(async () => ((await shown.innerText()).includes(requestId) ? true : undefined), {
        timeout: 8000,
        what: `the Logs page showing the log of ${requestId}`,
      });
      await shot('logs page');
    });
  });
}
