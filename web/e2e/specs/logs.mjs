// The Logs and System pages: CPA's main log followed while traffic runs, a
// request's own log opened by id, and versions that match what CPA and
// caddy-cpam report.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the page built yet?';

export default function logs() {
  describe('logs and system', () => {
    browserTestBothModes('10a logs: lines arrive while following, and the text filter narrows them', async ({ page, shot, panelUrl }) => {
      await page.goto(`${panelUrl}#/logs`);
      await find(page, 'logs-page', { timeout: 8000, hint: HINT });
      await find(page, 'logs-line', { timeout: 10_000, hint: HINT });
      const lines = tid(page, 'logs-line');
      assert.equal(await tid(page, 'logs-follow').getAttribute('aria-pressed'), 'true', 'the page does not follow the log by default');
      const texts = () => lines.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
      const before = await texts();
      // The simulator logs its traffic: following shows lines that were not there.
      await until(
        async () => {
          const now = await texts();
          return now.some((l) => !before.includes(l)) ? true : undefined;
        },
        { timeout: 12_000, what: 'a new log line while following' },
      );
      await shot('following');

      const all = (await texts()).length;
      const word = 'mock-gpt';
      await tid(page, 'logs-filter-text').fill(word);
      await until(
        async () => {
          const shown = await texts();
          return shown.length > 0 && shown.length < all && shown.every((l) => l.includes(word)) ? true : undefined;
        },
        { timeout: 5000, what: `only lines containing "${word}"` },
      );
      await shot('filtered');
    });

    browserTestBothModes("10b logs: #/logs?request=<id> shows that request's log", async ({ page, shot, api, panelUrl }) => {
      const failures = await until(
        async () => {
          const doc = await api.ok('/cpam/api/v1/failures', { query: { from: new Date(Date.now() - 3_600_000).toISOString() } });
          return doc.failures?.length > 0 ? doc.failures : undefined;
        },
        { timeout: 15_000, what: 'a failed request in the API' },
      );
      const id = failures[0].requestId;
      assert.ok(id, 'the failure has no request id');
      await page.goto(`${panelUrl}#/logs?request=${id}`);
      await find(page, 'logs-page', { timeout: 8000, hint: HINT });
      const text = await find(page, 'logs-request-text', { timeout: 10_000, hint: HINT });
      await until(async () => ((await text.innerText()).includes(id) ? true : undefined), {
        timeout: 8000,
        what: `the request log of ${id}`,
      });
      await shot('request log');
    });

    browserTestBothModes('10c system: versions match CPA and caddy-cpam', async ({ page, shot, api, panelUrl }) => {
      const cpa = await api.request('/v0/management/debug');
      const cpaVersion = String(cpa.headers['x-cpa-version'] ?? '');
      assert.ok(cpaVersion, 'CPA sent no X-CPA-VERSION');
      const info = await api.ok('/cpam/usage-service/info');
      await page.goto(`${panelUrl}#/system`);
      await find(page, 'system-page', { timeout: 8000, hint: HINT });
      const shown = await find(page, 'system-cpa-version', { timeout: 8000 });
      await until(async () => ((await shown.innerText()).includes(cpaVersion) ? true : undefined), {
        timeout: 8000,
        what: `CPA version ${cpaVersion}`,
      });
      assert.match(
        await (await find(page, 'system-cpam-version')).innerText(),
        new RegExp(info.version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      );
      assert.match(await (await find(page, 'system-instance')).innerText(), new RegExp(info.instanceId));
      await shot('system');
    });
  });
}
