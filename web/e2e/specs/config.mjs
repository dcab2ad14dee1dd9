// The Configuration page: toggling debug and saving reaches CPA (the simulator).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Configuration page built yet?';
const DEBUG = '/v0/management/debug';

export default function config() {
  describe('config', () => {
    browserTestBothModes('9 config: toggling debug and saving changes CPA’s setting', async ({ page, shot, api, panelUrl }) => {
      const before = (await api.ok(DEBUG)).debug;
      assert.equal(typeof before, 'boolean', 'GET /debug gives no boolean');
      try {
        await page.goto(`${panelUrl}#/config`);
        await find(page, 'config-page', { timeout: 8000, hint: HINT });
        const box = await find(page, 'config-field-debug', { hint: HINT });
        assert.equal(await box.isChecked(), before, 'the debug checkbox does not show CPA’s value');
        await find(page, 'config-usage-warning', { hint: HINT });
        assert.ok(await tid(page, 'config-save').first().isDisabled(), 'save is enabled without changes');

        await box.click();
        await shot('debug toggled');
        await (await find(page, 'config-save', { hint: HINT })).click();
        const dialog = await find(page, 'config-change-list', { hint: HINT });
        assert.equal(await dialog.locator('li').count(), 1, 'the confirmation lists other changes than debug');
        await (await find(page, 'config-save-confirm', { hint: HINT })).click();

        const item = page.locator('[data-testid="config-result"] [data-setting="debug"]').first();
        await item.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
          throw new Error('element not found: [data-testid="config-result"] [data-setting="debug"] within 10000 ms');
        });
        assert.equal(await item.getAttribute('data-state'), 'ok', `saving debug failed: ${await item.textContent()}`);
        await shot('saved');

        await until(async () => ((await api.ok(DEBUG)).debug === !before ? true : undefined), {
          what: `CPA's debug to become ${!before}`,
        });
        await until(async () => ((await box.isChecked()) === !before ? true : undefined), { what: 'the checkbox to show the saved value' });
        await until(async () => ((await tid(page, 'config-pending').first().getAttribute('data-count')) === '0' ? true : undefined), {
          what: 'no pending changes after the save',
        });
      } finally {
        await api.request(DEBUG, { method: 'PUT', body: { value: before }, headers: { 'X-CPAM-Request': '1' } }).catch(() => {});
      }
    });
  });
}
