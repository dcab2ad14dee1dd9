// The Pricing page: a price sync from the local LiteLLM-shaped list.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTest } from '../lib/harness.mjs';
import { MOCK_GPT_PRICE, PANEL_URL } from '../lib/stack.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Pricing page built yet?';

export default function pricing() {
  describe('pricing', () => {
    browserTest('6 pricing: sync takes mock-gpt’s price from the local LiteLLM list', async ({ page, shot, api, stack }) => {
      const pricesBefore = await api.ok('/cpam/v0/management/model-prices');
      assert.notEqual(pricesBefore.prices?.['mock-gpt']?.source, 'litellm', 'mock-gpt is priced from LiteLLM before any sync');
      const catalogueReads = stack.priceServer.requests;

      await page.goto(`${PANEL_URL}#/pricing`);
      await find(page, 'pricing-page', { timeout: 8000, hint: HINT });
      await shot('before sync');
      await (await find(page, 'pricing-sync', { hint: HINT })).click();
      const confirm = tid(page, 'pricing-sync-confirm').first();
      try {
        await confirm.waitFor({ state: 'visible', timeout: 1500 });
        await confirm.click();
      } catch {
        // No confirmation step.
      }
      await find(page, 'pricing-sync-result', { timeout: 15_000, hint: HINT });
      assert.ok(stack.priceServer.requests > catalogueReads, 'the sync never downloaded the local price list');

      const row = page.locator('[data-testid="pricing-row"][data-model="mock-gpt"]').first();
      try {
        await row.waitFor({ state: 'attached', timeout: 5000 });
      } catch {
        throw new Error('element not found: [data-testid="pricing-row"][data-model="mock-gpt"] within 5000 ms');
      }
      await until(async () => ((await row.getAttribute('data-source')) === 'litellm' ? true : undefined), {
        what: 'data-source="litellm" on the mock-gpt row',
      }).catch(async (e) => {
        throw new Error(`${e.message}; it is "${await row.getAttribute('data-source')}"`);
      });
      await row.scrollIntoViewIfNeeded().catch(() => {});
      await shot('after sync');

      const price = (await api.ok('/cpam/v0/management/model-prices')).prices?.['mock-gpt'];
      assert.ok(price, 'the API has no mock-gpt price after the sync');
      assert.equal(price.source, 'litellm');
      assert.equal(price.input, MOCK_GPT_PRICE.input);
      assert.equal(price.output, MOCK_GPT_PRICE.output);
    });
  });
}
