// The Codex inspection page: a run classifies the five demo Codex accounts,
// applying only the suggested disable of codex-full reaches CPA, and the
// run with its applied outcome is kept in the history.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the inspection page built yet?';
const FULL = 'codex-full@example.com-pro.json';
const BACK = 'codex-back@example.com-plus.json';
const GONE = 'codex-gone@example.com-team.json';
const EXPECTED = {
  'codex-demo@example.com-plus.json': 'keep',
  [FULL]: 'disable',
  'codex-expired@example.com-plus.json': 'reauth',
  [GONE]: 'delete',
  [BACK]: 'enable',
};

/** @param {import('../lib/api.mjs').Api} api */
async function authFile(api, name) {
  const { files } = await api.ok('/v0/management/auth-files');
  return files.find((/** @type {{ name: string }} */ f) => f.name === name);
}

/** @param {import('playwright-core').Page | import('playwright-core').Locator} scope @param {string} id @param {string} name */
const row = (scope, id, name) => scope.locator(`[data-testid="${id}"][data-name="${name}"]`);

export default function inspection() {
  describe('inspection', () => {
    browserTestBothModes(
      'inspection: a run classifies every Codex account; applying the disable reaches CPA and the history',
      async ({ page, shot, api, panelUrl }) => {
        const before = await authFile(api, FULL);
        assert.ok(before, `the simulator has no ${FULL} (is bin/cpa-sim up to date?)`);
        assert.equal(before.disabled, false, `${FULL} is disabled before the test`);
        assert.equal((await authFile(api, BACK))?.disabled, true, `${BACK} is not disabled`);
        try {
          await page.goto(`${panelUrl}#/inspection`);
          await find(page, 'inspection-page', { timeout: 8000, hint: HINT });
          const runButton = await find(page, 'inspection-run', { hint: HINT });
          await until(async () => ((await runButton.isEnabled()) ? true : undefined), { what: 'the run button to be enabled' });
          await runButton.click();
          const progress = await find(page, 'inspection-progress', { hint: HINT });
          await until(async () => ((await progress.getAttribute('data-running')) === 'false' ? true : undefined), {
            timeout: 20_000,
            what: 'the inspection to finish',
          });
          assert.equal(await progress.getAttribute('data-done'), await progress.getAttribute('data-total'));

          for (const [name, action] of Object.entries(EXPECTED)) {
            const r = row(page, 'inspection-result', name);
            assert.equal(await r.count(), 1, `no result row for ${name}`);
            assert.equal(await r.getAttribute('data-action'), action, `${name}: ${await r.textContent()}`);
          }
          // The evidence: codex-full's weekly window is used up.
          const fullRow = row(page, 'inspection-result', FULL);
          assert.equal(
            await fullRow.locator('[data-testid="inspection-window"][data-window-id="secondary"]').getAttribute('data-used'),
            '100',
          );
          assert.equal(
            (await tid(row(page, 'inspection-result', 'codex-expired@example.com-plus.json'), 'inspection-status').textContent())?.trim(),
            '401',
          );
          assert.equal(
            await tid(row(page, 'inspection-result', 'codex-expired@example.com-plus.json'), 'inspection-reauth-link').getAttribute('href'),
            '#/oauth',
          );

          // Default selection: disable and enable ticked, delete not; keep and reauth have no box.
          assert.equal(await tid(fullRow, 'inspection-select').isChecked(), true, 'the disable is not selected by default');
          assert.equal(
            await tid(row(page, 'inspection-result', BACK), 'inspection-select').isChecked(),
            true,
            'the enable is not selected by default',
          );
          assert.equal(
            await tid(row(page, 'inspection-result', GONE), 'inspection-select').isChecked(),
            false,
            'the delete is selected by default',
          );
          assert.equal(await tid(row(page, 'inspection-result', 'codex-demo@example.com-plus.json'), 'inspection-select').count(), 0);

          const saved = await find(page, 'inspection-saved', {
            timeout: 8000,
            hint: 'the run was not saved (POST /cpam/api/v1/inspections)',
          });
          const runId = await saved.getAttribute('data-id');
          assert.ok(runId, 'no run id');
          await shot('results');

          // Apply only codex-full's disable.
          await tid(row(page, 'inspection-result', BACK), 'inspection-select').uncheck();
          const apply = await find(page, 'inspection-apply', { hint: HINT });
          assert.match((await apply.textContent()) ?? '', /Apply 1 selected action/);
          await apply.click();
          const outcome = tid(fullRow, 'inspection-outcome');
          await outcome.waitFor({ state: 'visible', timeout: 10_000 });
          assert.equal(await outcome.getAttribute('data-ok'), 'true', `the disable failed: ${await outcome.textContent()}`);
          assert.equal(
            await tid(row(page, 'inspection-result', BACK), 'inspection-outcome').count(),
            0,
            'the unselected enable was applied',
          );

          await until(async () => ((await authFile(api, FULL))?.disabled === true ? true : undefined), {
            what: `${FULL} to be disabled in CPA`,
          });
          assert.equal((await authFile(api, BACK))?.disabled, true, `${BACK} changed although it was not selected`);
          assert.ok(await authFile(api, GONE), `${GONE} was deleted although it was not selected`);
          await shot('applied');

          // The usage service holds the run with the outcome.
          const stored = await until(
            async () => {
              const doc = await api.ok(`/cpam/api/v1/inspections/${runId}`);
              const r = doc.results.find((/** @type {{ name: string }} */ x) => x.name === FULL);
              return r?.applied ? doc : undefined;
            },
            { what: 'the applied outcome to be recorded' },
          );
          const storedFull = stored.results.find((/** @type {{ name: string }} */ x) => x.name === FULL);
          assert.equal(storedFull.action, 'disable');
          assert.equal(storedFull.applied.action, 'disable');
          assert.equal(storedFull.applied.ok, true);
          assert.equal(stored.results.length, Object.keys(EXPECTED).length);

          // After a reload the history shows the run and its outcome.
          await page.reload();
          await find(page, 'inspection-page', { timeout: 8000 });
          const item = page.locator(`[data-testid="inspection-history-item"][data-id="${runId}"]`);
          await item.waitFor({ state: 'visible', timeout: 8000 }).catch(() => {
            throw new Error(`element not found: the history has no run ${runId}`);
          });
          assert.equal(await tid(item, 'inspection-history-applied').getAttribute('data-applied'), '1');
          await tid(item, 'inspection-history-open').click();
          const detail = await find(page, 'inspection-detail');
          const detailFull = row(detail, 'inspection-detail-result', FULL);
          await detailFull.waitFor({ state: 'visible', timeout: 8000 });
          assert.equal(await detailFull.getAttribute('data-action'), 'disable');
          assert.equal(await detailFull.getAttribute('data-applied-action'), 'disable');
          assert.equal(await detailFull.getAttribute('data-applied-ok'), 'true');
          assert.equal(await row(detail, 'inspection-detail-result', BACK).getAttribute('data-applied-ok'), '');
          await detail.scrollIntoViewIfNeeded();
          await shot('history');
          await page.setViewportSize({ width: 390, height: 844 });
          const overflow = await page.evaluate(() => {
            window.scrollTo(0, 0);
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
              .filter((el) => el.getBoundingClientRect().right > width + 1)
              .slice(0, 5)
              .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`);
            return { by: document.documentElement.scrollWidth - width, wide };
          });
          assert.ok(overflow.by <= 0, `the page scrolls sideways by ${overflow.by}px at phone width: ${overflow.wide.join(', ')}`);
          await shot('phone');
        } finally {
          // The next run (the other mode) starts from the same state.
          await api
            .request('/v0/management/auth-files/status', {
              method: 'PATCH',
              body: { name: FULL, disabled: false },
              headers: { 'X-CPAM-Request': '1' },
            })
            .catch(() => {});
        }
        assert.equal((await authFile(api, FULL))?.disabled, false, `${FULL} could not be re-enabled`);
      },
      { timeout: 60_000 },
    );
  });
}
