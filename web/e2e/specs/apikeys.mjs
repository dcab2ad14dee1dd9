// The API keys page: client keys shown masked only, aliases saved.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTest } from '../lib/harness.mjs';
import { CLIENT_KEYS, PANEL_URL } from '../lib/stack.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the API keys page built yet?';

/** caddy-cpam's mask of a secret: first 4 and last 4 characters around "…". */
const mask = (/** @type {string} */ key) => `${key.slice(0, 4)}…${key.slice(-4)}`;

export default function apiKeys() {
  describe('api keys', () => {
    browserTest('8 api keys: keys are listed masked, an alias is saved', async ({ page, shot, api }) => {
      await page.goto(`${PANEL_URL}#/api-keys`);
      await find(page, 'apikeys-page', { timeout: 8000, hint: HINT });
      await find(page, 'apikeys-row', { timeout: 10_000, hint: HINT });
      const rows = tid(page, 'apikeys-row');
      const masks = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-mask')));
      for (const key of CLIENT_KEYS)
        assert.ok(masks.includes(mask(key)), `no apikeys-row with data-mask="${mask(key)}"; masks: ${JSON.stringify(masks)}`);
      await shot('keys');

      const leaks = async () => {
        const html = await page.content();
        const values = await page.evaluate(() =>
          [...document.querySelectorAll('input, textarea')].map((e) => /** @type {HTMLInputElement} */ (e).value).join('\n'),
        );
        return CLIENT_KEYS.filter((k) => html.includes(k) || values.includes(k));
      };
      assert.deepEqual(await leaks(), [], 'a full client key is in the page');

      const alias = `e2e alias ${randomBytes(4).toString('hex')}`;
      const row = rows.and(page.locator(`[data-mask="${mask(CLIENT_KEYS[0])}"]`)).first();
      const rowHash = await row.getAttribute('data-hash');
      // The alias editor may open from the row first (apikeys-row-name).
      if (!(await tid(row, 'apikeys-alias-input').first().isVisible())) {
        const opener = tid(row, 'apikeys-row-name').first();
        if ((await opener.count()) > 0) await opener.click();
      }
      const input = await find(row, 'apikeys-alias-input', { timeout: 2000 }).catch(() =>
        find(page, 'apikeys-alias-input', { hint: `${HINT} It is looked for in the row of ${mask(CLIENT_KEYS[0])}, then on the page` }),
      );
      await input.fill(alias);
      const saveInRow = tid(row, 'apikeys-alias-save');
      const save = (await saveInRow.count()) > 0 ? saveInRow.first() : await find(page, 'apikeys-alias-save', { hint: HINT });
      await save.click();

      const item = await until(
        async () => {
          const doc = await api.ok('/cpam/v0/management/api-key-aliases');
          return doc.items?.find((/** @type {{ alias: string }} */ i) => i.alias === alias);
        },
        { timeout: 5000, what: `alias "${alias}" in GET /cpam/v0/management/api-key-aliases` },
      );
      if (rowHash) assert.equal(item.apiKeyHash, rowHash, 'the alias was saved for another key');
      await shot('alias saved');
      assert.deepEqual(await leaks(), [], 'a full client key is in the page after saving');
    });
  });
}
